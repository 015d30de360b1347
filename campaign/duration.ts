// Durations as marketers write them: "45m", "48h", "3d", "2w", "1d12h"; SLA durations in
// business or calendar time.
import type { SlaDuration } from './types';
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?[smhdw])+$/;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const compact = text.replace(/\s+/g, '').toLowerCase();
  if (!DURATION.test(compact)) return undefined;
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/**
 * An SLA duration: business time — "3 business days", "24 business hours", "1 business day 4
 * business hours" (a business day is one working day long) — or calendar time ("24h", "2d").
 */
export function parseSlaDuration(value: unknown): SlaDuration | undefined {
  if (typeof value !== 'string') return undefined;
  const business = /^\s*(?:(\d+(?:\.\d+)?)\s*business\s+days?)?\s*(?:(\d+(?:\.\d+)?)\s*business\s+hours?)?\s*$/i.exec(value);
  if (business && (business[1] || business[2])) return { business: true, days: Number(business[1] ?? 0), hours: Number(business[2] ?? 0) };
  const ms = parseDuration(value);
  return ms !== undefined && ms > 0 ? { business: false, ms } : undefined;
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    if (ms % UNIT_MS[unit]! === 0 && ms >= UNIT_MS[unit]!) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}
