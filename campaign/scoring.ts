// The lead score: fit points from attributes, behaviour points from events (decaying by
// half-life or expiring), and manual adjustments. The score is, by construction, the sum of
// its breakdown: every item is rounded first and the total is the sum of the rounded items.
import { holds } from './conditions';
import type { Campaign, LeadEvent, ScoreItem } from './types';

export interface BehaviourPoints {
  label: string;
  points: number;
  at: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

export function fitPoints(campaign: Campaign, lead: Record<string, unknown>): ScoreItem[] {
  const context = { lead, score: 0, stage: 'cold' };
  return campaign.scoring.fit
    .filter((rule) => holds(rule.if, context, { now: 0, events: [] }))
    .map((rule) => ({ label: rule.label, points: rule.points }));
}

/** Behaviour points one event earns, honouring each rule's cap (`totals` is updated). */
export function eventPoints(campaign: Campaign, event: LeadEvent, lead: Record<string, unknown>, totals: Record<string, number>): BehaviourPoints[] {
  if (event.machine) return [];
  const earned: BehaviourPoints[] = [];
  for (const rule of campaign.scoring.behaviour) {
    if (rule.on !== event.type) continue;
    if (rule.where && !holds(rule.where, { event, lead }, { now: event.at, events: [] })) continue;
    let points = rule.points;
    if (rule.max !== undefined) {
      const so = totals[rule.label] ?? 0;
      points = Math.max(0, Math.min(points, rule.max - so));
      if (points === 0) continue;
      totals[rule.label] = so + points;
    }
    earned.push({ label: rule.label, points, at: event.at });
  }
  return earned;
}

/** Whether a behaviour item still counts at `now` (expiry), and how much (half-life). */
export function decayed(campaign: Campaign, item: BehaviourPoints, now: number): number {
  const decay = campaign.scoring.decay;
  const age = Math.max(0, now - item.at);
  if (decay?.expireAfterMs !== undefined && age > decay.expireAfterMs) return 0;
  if (decay?.halfLifeMs) return item.points * 0.5 ** (age / decay.halfLifeMs);
  return item.points;
}

export function scoreBreakdown(
  campaign: Campaign,
  parts: { fit: ScoreItem[]; behaviour: BehaviourPoints[]; adjustments: BehaviourPoints[] },
  now: number,
): { score: number; breakdown: ScoreItem[] } {
  const byLabel = new Map<string, number>();
  const add = (label: string, points: number) => byLabel.set(label, (byLabel.get(label) ?? 0) + points);
  for (const item of parts.fit) add(item.label, item.points);
  for (const item of parts.behaviour) add(item.label, decayed(campaign, item, now));
  for (const item of parts.adjustments) add(item.label, item.points);
  const breakdown = [...byLabel].map(([label, points]) => ({ label, points: round(points) })).filter((item) => item.points !== 0);
  let score = round(breakdown.reduce((sum, item) => sum + item.points, 0));
  const max = campaign.scoring.max;
  if (max !== undefined && score > max) {
    breakdown.push({ label: 'capped at maximum', points: round(max - score) });
    score = max;
  }
  return { score, breakdown };
}

/** Drops behaviour items that no longer count, so the state stays small. */
export function pruneBehaviour(campaign: Campaign, items: BehaviourPoints[], now: number, keep = 200): BehaviourPoints[] {
  const alive = items.filter((item) => Math.abs(decayed(campaign, item, now)) >= 0.05 || item.at > now);
  return alive.length > keep ? alive.slice(alive.length - keep) : alive;
}
