// SLAs on the sales team's calendar, and what the sales desk does next with a handoff. Pure: the
// desk (activities/sales-desk.ts) reads the handoff and the team, asks here, and records.
import { addBusinessTime, businessDayMs } from './calendar';
import type { HandoffConfig, SendWindow, SlaDuration } from './types';

const HOUR = 3_600_000;

/** A pool's or a rep's working hours. */
export interface WorkingHours {
  timezone: string;
  /** ISO weekdays (1 = Monday). */
  days: number[];
  /** Minutes after midnight. */
  start: number;
  end: number;
  /** Holiday dates (YYYY-MM-DD), already expanded from a country's calendar and listed days. */
  holidayDates: string[];
}

export function workingCalendar(hours: WorkingHours): SendWindow {
  return {
    days: hours.days,
    start: hours.start,
    end: hours.end,
    useLeadTimezone: false,
    timezone: hours.timezone,
    holidays: { country: 'custom', dates: hours.holidayDates },
  };
}

/** The first-contact SLA of a handoff config; campaigns stored before the sales desk had business ms only. */
export function firstContactSla(sla: HandoffConfig['sla']): SlaDuration {
  return sla.firstContact ?? { business: true, days: 0, hours: sla.firstContactBusinessMs / HOUR };
}

/** When `duration` after `start` ends on `hours` (business time) or on the clock. */
export function slaDeadline(duration: SlaDuration, hours: WorkingHours, start: number): number {
  if (!duration.business) return start + duration.ms;
  const calendar = workingCalendar(hours);
  const ms = duration.days * businessDayMs(calendar) + duration.hours * HOUR;
  return addBusinessTime(calendar, hours.timezone, start, ms);
}

export function describeSla(duration: SlaDuration): string {
  if (!duration.business) return `${duration.ms / HOUR} hours`;
  const parts = [duration.days && `${duration.days} business day${duration.days === 1 ? '' : 's'}`, duration.hours && `${duration.hours} business hour${duration.hours === 1 ? '' : 's'}`];
  return parts.filter(Boolean).join(' and ') || '0 business hours';
}

/** What the desk knows of one open handoff. */
export interface DeskView {
  status: 'pending' | 'accepted';
  ownerId: string | null;
  /** Why the owner cannot work the lead now (away, inactive), or null. */
  ownerUnavailable: string | null;
  firstContactDue: number;
  remindAt: number | null;
  remindedAt: number | null;
  escalatedAt: number | null;
  outcomeDue: number | null;
  outcomeEscalatedAt: number | null;
  reassign: { missedFirstContact: boolean; ownerAway: boolean };
}

export type DeskAction = 'assign' | 'reassign_owner_away' | 'remind' | 'escalate_first_contact' | 'reassign_missed' | 'escalate_outcome';

/** What is due on the handoff at `now`, in the order the desk carries it out. */
export function deskActions(h: DeskView, now: number): DeskAction[] {
  if (h.status === 'accepted') return h.outcomeDue !== null && h.outcomeEscalatedAt === null && now >= h.outcomeDue ? ['escalate_outcome'] : [];
  if (h.ownerId === null) return ['assign'];
  const actions: DeskAction[] = [];
  if (h.ownerUnavailable && h.reassign.ownerAway) return ['reassign_owner_away'];
  if (h.escalatedAt === null && now >= h.firstContactDue) {
    actions.push('escalate_first_contact');
    if (h.reassign.missedFirstContact) actions.push('reassign_missed');
  } else if (h.remindAt !== null && h.remindedAt === null && now >= h.remindAt && now < h.firstContactDue) {
    actions.push('remind');
  }
  return actions;
}

/** The next time something falls due on the handoff (null: only a team change or an answer can move it). */
export function nextDeskDue(h: DeskView): number | null {
  if (h.status === 'accepted') return h.outcomeDue !== null && h.outcomeEscalatedAt === null ? h.outcomeDue : null;
  if (h.ownerId === null) return null;
  const times: number[] = [];
  if (h.remindAt !== null && h.remindedAt === null && h.remindAt < h.firstContactDue) times.push(h.remindAt);
  if (h.escalatedAt === null) times.push(h.firstContactDue);
  return times.length ? Math.min(...times) : null;
}
