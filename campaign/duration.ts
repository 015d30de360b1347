// Durations as marketers write them: "45m", "48h", "3d", "2w", "1d12h".
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

/** Business time: "3 business days" or "24 business hours" (a business day is one window's length). */
export function parseBusinessDuration(text: unknown, businessDayMs: number): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*business\s+(day|days|hour|hours)\s*$/i.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2]!.toLowerCase().startsWith('day') ? amount * businessDayMs : amount * UNIT_MS.h!;
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    if (ms % UNIT_MS[unit]! === 0 && ms >= UNIT_MS[unit]!) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}
