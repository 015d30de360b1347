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
  // Points per label, in first-seen order (fit, then behaviour, then adjustments).
  const labels: string[] = [];
  const points: Record<string, number> = {};
  const count = parts.fit.length + parts.behaviour.length + parts.adjustments.length;
  for (let i = 0; i < count; i++) {
    let label: string;
    let value: number;
    if (i < parts.fit.length) ({ label, points: value } = parts.fit[i]!);
    else if (i < parts.fit.length + parts.behaviour.length) {
      const item = parts.behaviour[i - parts.fit.length]!;
      label = item.label;
      value = decayed(campaign, item, now);
    } else ({ label, points: value } = parts.adjustments[i - parts.fit.length - parts.behaviour.length]!);
    const so = points[label];
    if (so === undefined) {
      labels.push(label);
      points[label] = value;
    } else points[label] = so + value;
  }
  const breakdown: ScoreItem[] = [];
  let sum = 0;
  for (const label of labels) {
    const value = round(points[label]!);
    if (value === 0) continue;
    breakdown.push({ label, points: value });
    sum += value;
  }
  let score = round(sum);
  const max = campaign.scoring.max;
  if (max !== undefined && score > max) {
    breakdown.push({ label: 'capped at maximum', points: round(max - score) });
    score = max;
  }
  return { score, breakdown };
}

/** Drops behaviour items that no longer count, so the state stays small. */
export function pruneBehaviour(campaign: Campaign, items: BehaviourPoints[], now: number, keep = 200): BehaviourPoints[] {
  // Pruning is for size, not correctness (spent items score ~0): skip it while the list is short.
  if (items.length < 32) return items;
  // Without decay, points do not depend on their age: one item per label scores exactly the same.
  if (!campaign.scoring.decay) return mergedByLabel(items);
  const alive = items.filter((item) => Math.abs(decayed(campaign, item, now)) >= 0.05 || item.at > now);
  return alive.length > keep ? alive.slice(alive.length - keep) : alive;
}

function mergedByLabel(items: BehaviourPoints[]): BehaviourPoints[] {
  const merged = new Map<string, BehaviourPoints>();
  for (const item of items) {
    const same = merged.get(item.label);
    if (same) merged.set(item.label, { label: item.label, points: same.points + item.points, at: Math.max(same.at, item.at) });
    else merged.set(item.label, { ...item });
  }
  return [...merged.values()];
}
