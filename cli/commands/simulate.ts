// `nurture simulate <file> --leads N --days D [--seed S] [--profile F]`: the interpreter over
// synthetic leads in virtual time; prints the funnel, the steps, the A/B outcome and the
// time-to-qualify distribution. The same seed prints the same report.
import { readFile } from 'node:fs/promises';
import { describeAbPlan, formatCampaignError, parseCampaign } from '../../campaign';
import { DEFAULT_PROFILE, parseProfile } from '../../campaign/profile';
import { simulate, type SimulationResult, type StepStats } from '../../campaign/simulator';
import { EXIT, type CommandOutput } from '../exit-codes';
import { readInputFile } from '../read-input';

export interface SimulateOptions {
  leads: number;
  days: number;
  seed: number;
  profile?: string;
  showProfile?: boolean;
  json?: boolean;
}

export async function simulateCommand(file: string, options: SimulateOptions, out: CommandOutput): Promise<number> {
  for (const [name, value, max] of [['leads', options.leads, 10_000_000], ['days', options.days, 3650]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      out.error(`--${name} must be a whole number from 1 to ${max}, got ${value}`);
      return EXIT.usage;
    }
  }
  const text = await readInputFile(file, out);
  if (text === undefined) return EXIT.invalid;
  const parsed = parseCampaign(text, { format: file.endsWith('.json') ? 'json' : 'yaml' });
  if (!parsed.ok) {
    for (const error of parsed.errors) out.error(`${file}: ${formatCampaignError(error)}`);
    return EXIT.invalid;
  }
  let profile = DEFAULT_PROFILE;
  if (options.profile) {
    let content: unknown;
    try {
      content = JSON.parse(await readFile(options.profile, 'utf8'));
    } catch (error) {
      out.error(`cannot use profile ${options.profile}: ${(error as Error).message}`);
      return EXIT.invalid;
    }
    const checked = parseProfile(content);
    if (!checked.ok) {
      for (const error of checked.errors) out.error(`${options.profile}: ${formatCampaignError(error)}`);
      return EXIT.invalid;
    }
    profile = checked.profile;
  }
  if (options.showProfile) {
    out.log(JSON.stringify(profile, null, 2));
    return EXIT.ok;
  }
  const started = performance.now();
  const result = simulate(parsed.campaign, { leads: options.leads, days: options.days, seed: options.seed, profile });
  const seconds = (performance.now() - started) / 1000;
  if (options.json) out.log(JSON.stringify(result, null, 2));
  else for (const line of report(result)) out.log(line);
  out.error(`simulated ${result.leads} leads × ${result.days} days in ${seconds.toFixed(2)} s (${result.steps_run} interpreter steps)`);
  return EXIT.ok;
}

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '–');
const pad = (text: string | number, width: number) => String(text).padStart(width);

export function report(r: SimulationResult): string[] {
  const f = r.funnel;
  const lines = [
    `Simulation: ${r.leads} leads over ${r.days} days (seed ${r.seed})`,
    '',
    'Funnel',
    ...(f.notEnrolled ? [`  not enrolled      ${pad(f.notEnrolled, 9)}  (entry.where did not hold)`] : []),
    `  enrolled          ${pad(f.enrolled, 9)}`,
    `  moved to warm     ${pad(f.reachedWarm, 9)}  ${pad(pct(f.reachedWarm, f.enrolled), 6)}`,
    `  moved to hot      ${pad(f.reachedHot, 9)}  ${pad(pct(f.reachedHot, f.enrolled), 6)}`,
    `  handed off        ${pad(f.handedOff, 9)}  ${pad(pct(f.handedOff, f.enrolled), 6)}`,
    `  accepted by sales ${pad(f.accepted, 9)}  ${pad(pct(f.accepted, f.handedOff), 6)} of handoffs`,
    `  recycled          ${pad(f.recycled, 9)}`,
    `  converted         ${pad(f.converted, 9)}`,
    `  unsubscribed      ${pad(f.unsubscribed, 9)}  ${pad(pct(f.unsubscribed, f.enrolled), 6)}`,
    `  exited            ${Object.entries(f.exited).map(([reason, n]) => `${reason}: ${n}`).join(', ') || '0'}`,
    '',
    'Steps                                   sent    opened   clicked  unsubscribed  bounced',
    ...stepLines(r),
    '',
    'Emails not sent when their step came (skipped for good, or deferred by the window or the cap)',
    ...notSentLines(r),
    '',
    'Emails sent per week',
    ...sendLines(r),
    '',
    'A/B tests',
    ...(Object.keys(r.abTests).length === 0 ? ['  none'] : []),
    ...Object.entries(r.abTests).flatMap(([key, test]) => [
      `  ${key}: ${test.winner ? `winner after ${test.decidedAfterSends} sends — ${test.reason}` : test.reason}`,
      `    ${describeAbPlan(test.plan)}`,
      ...test.variants.map((v) => `    ${v.variant.padEnd(10)} sends ${pad(v.sends, 8)}  opens ${pad(pct(v.opens, v.sends), 6)}  clicks ${pad(pct(v.clicks, v.sends), 6)}`),
    ]),
    '',
    'Time to qualify (days, handed-off leads)',
    r.timeToQualifyDays.count
      ? `  n=${r.timeToQualifyDays.count}  p10 ${r.timeToQualifyDays.p10!.toFixed(1)}  median ${r.timeToQualifyDays.p50!.toFixed(1)}  p90 ${r.timeToQualifyDays.p90!.toFixed(1)}  mean ${r.timeToQualifyDays.mean!.toFixed(1)}`
      : '  no lead qualified',
  ];
  return lines;
}

/** One line per step (its label or path, and subject), grouped by track (stage) with a subtotal, then the trigger emails. */
function stepLines(r: SimulationResult): string[] {
  type Totals = Pick<StepStats, 'sent' | 'opened' | 'clicked' | 'unsubscribed' | 'bounced'>;
  const line = (name: string, s: Totals, subject = '') =>
    `  ${name.padEnd(32)} ${pad(s.sent, 8)} ${pad(pct(s.opened, s.sent), 8)} ${pad(pct(s.clicked, s.sent), 8)} ${pad(pct(s.unsubscribed, s.sent), 12)} ${pad(pct(s.bounced, s.sent), 8)}${subject && `  "${subject.length > 48 ? `${subject.slice(0, 47)}…` : subject}"`}`;
  const groups = new Map<string, [string, StepStats][]>();
  for (const entry of Object.entries(r.steps).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const group = entry[0].startsWith('triggers') ? 'triggers' : entry[0].split('[')[0]!;
    groups.set(group, [...(groups.get(group) ?? []), entry]);
  }
  return [...groups].flatMap(([group, entries]) => {
    const total = entries.reduce<Totals>(
      (sum, [, s]) => ({ sent: sum.sent + s.sent, opened: sum.opened + s.opened, clicked: sum.clicked + s.clicked, unsubscribed: sum.unsubscribed + s.unsubscribed, bounced: sum.bounced + s.bounced }),
      { sent: 0, opened: 0, clicked: 0, unsubscribed: 0, bounced: 0 },
    );
    return [...entries.map(([path, s]) => line(s.label ?? path, s, s.subject)), line(`${group} (all)`, total)];
  });
}

/** Per step, the times its email did not go, by reason. */
function notSentLines(r: SimulationResult): string[] {
  const lines = Object.entries(r.steps)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .filter(([, s]) => Object.keys(s.notSent).length > 0)
    .map(([path, s]) => `  ${(s.label ?? path).padEnd(32)} ${Object.entries(s.notSent).map(([reason, n]) => `${reason.replaceAll('_', ' ')} ${n}`).join(', ')}`);
  return lines.length ? lines : ['  none'];
}

/** Emails sent per week of the run, as a bar each. */
function sendLines(r: SimulationResult): string[] {
  const weeks: number[] = [];
  r.sendsByDay.forEach((sends, day) => (weeks[Math.floor(day / 7)] = (weeks[Math.floor(day / 7)] ?? 0) + sends));
  const most = Math.max(1, ...weeks);
  return weeks.map((sends, week) => `  week ${String(week + 1).padStart(2)}  ${pad(sends, 9)}  ${'█'.repeat(Math.round((sends / most) * 40))}`);
}
