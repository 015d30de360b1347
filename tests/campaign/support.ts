// Shared fixtures for the campaign core's tests.
import type { LeadSnapshot, SendWindow } from '../../campaign';
import { publicHolidayDates } from '../../campaign/holidays';

export { DAY, HOUR, loadCampaign } from '../support/campaigns';

export function lead(overrides: Partial<LeadSnapshot> = {}): LeadSnapshot {
  return {
    id: 'lead-1',
    email: 'aiko@globex.example',
    attributes: { first_name: 'Aiko', company: { name: 'Globex', employees: 250 }, role: 'manager', region: 'kanto' },
    timezone: 'Asia/Tokyo',
    consent: { marketing_email: true },
    ...overrides,
  };
}

/** Tuesday 2026-11-24 10:00 in Tokyo: inside the demo's send window. */
export const TUESDAY_10_JST = Date.parse('2026-11-24T01:00:00Z');

/** Weekdays 09:00–18:00 in Tokyo (the lead's zone first), Japanese holidays off; `extra` changes any of it. */
export const weekdays = (extra: Partial<SendWindow> = {}): SendWindow => ({
  days: [1, 2, 3, 4, 5],
  start: 9 * 60,
  end: 18 * 60,
  useLeadTimezone: true,
  timezone: 'Asia/Tokyo',
  holidays: { country: 'JP', dates: publicHolidayDates('JP') },
  ...extra,
});
