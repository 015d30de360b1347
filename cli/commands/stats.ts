// `nurture stats <campaign-id> [--json]`: the campaign's funnel, per-step and per-variant email
// results (all engagement and human-only, i.e. without machine opens and scanner clicks) and
// the sales SLA, as plain-text tables; --json prints the API's answer unchanged.
import type { CampaignStats, EmailFigures } from '../../db/stats';
import { apiRequest, campaignPath, CliError, resolveApiConfig, runCommand, unexpected, type ApiOptions } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';

export interface StatsOptions extends ApiOptions {
  json?: boolean;
}

/** The answer as JSON: dates are strings, and ab_tests is absent from an older API. */
type Stats = Omit<CampaignStats, 'ab_tests'> & {
  campaign_id: string;
  ab_tests?: { test_key: string; winner: string | null; campaign_version: number | null; p_value: number | null; decided_at: string | null }[];
};

export async function statsCommand(campaignId: string, options: StatsOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await apiRequest(config, 'GET', campaignPath(campaignId, '/stats'));
    if (response.status === 404 && response.error?.code === 'not_found') {
      throw new CliError(`no campaign ${campaignId} at ${config.baseUrl}: ${response.error.message}`, EXIT.invalid);
    }
    if (response.status !== 200) throw unexpected(config, `reading the stats of campaign ${campaignId}`, response);
    if (options.json) out.log(JSON.stringify(response.body, null, 2));
    else for (const line of statsReport(response.body as Stats)) out.log(line);
    return EXIT.ok;
  });
}

/** `part` as a percentage of `whole`, or – when there is nothing to divide by. */
export const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '–');

/** Columns padded to their widest cell; `right` lists the columns aligned right (numbers). */
export function table(header: string[], rows: string[][], right: number[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => (right.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** count (rate of sent) for each engagement figure. */
const engagement = (f: EmailFigures) => [
  String(f.sent),
  String(f.opened),
  pct(f.opened, f.sent),
  String(f.clicked),
  pct(f.clicked, f.sent),
  String(f.human_opened),
  pct(f.human_opened, f.sent),
  String(f.human_clicked),
  pct(f.human_clicked, f.sent),
];
const ENGAGEMENT_HEADER = ['sent', 'opened', 'open %', 'clicked', 'click %', 'human opened', 'human open %', 'human clicked', 'human click %'];

export function statsReport(s: Stats): string[] {
  const f = s.funnel;
  const reached = f.reached;
  const stages: [string, number, number][] = [
    ['enrolled', f.enrolled, f.enrolled],
    ['reached warm', reached.warm, f.enrolled],
    ['reached hot', reached.hot, reached.warm],
    ['handed off', reached.handed_off, reached.hot],
  ];
  const now = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ') || 'none';
  const lines = [
    `Campaign ${s.campaign_id}`,
    '',
    'Funnel',
    ...table(
      ['stage', 'leads', 'of enrolled', 'of previous'],
      stages.map(([name, n, previous], index) => [name, String(n), pct(n, f.enrolled), index === 0 ? '' : pct(n, previous)]),
      [1, 2, 3],
    ),
    `  now by stage: ${now(f.by_stage)}; by status: ${now(f.by_status)}`,
    '',
    'Steps (rates are of emails sent; human = without machine opens and scanner clicks)',
    ...(s.steps.length === 0
      ? ['  no email sent yet']
      : table(['step', 'template', ...ENGAGEMENT_HEADER], s.steps.map((step) => [step.step ?? '(no step)', step.template, ...engagement(step)]), [2, 3, 4, 5, 6, 7, 8, 9, 10])),
    '',
    'A/B variants',
    ...(s.variants.length === 0
      ? ['  no A/B test has sent an email yet']
      : table(['test', 'variant', ...ENGAGEMENT_HEADER], s.variants.map((v) => [v.ab_test, v.variant, ...engagement(v)]), [2, 3, 4, 5, 6, 7, 8, 9, 10])),
    ...(s.ab_tests ?? []).map((test) =>
      test.winner
        ? `  ${test.test_key}: winner ${test.winner}${test.p_value !== null ? ` (p=${test.p_value.toFixed(4)})` : ''}` +
          `${test.decided_at ? `, decided ${test.decided_at.slice(0, 10)}` : ''}${test.campaign_version !== null ? ` in version ${test.campaign_version}` : ''}`
        : `  ${test.test_key}: no winner yet`,
    ),
    '',
    'Sales SLA',
    ...table(
      ['handoffs', 'answered', 'answered in time', 'overdue', 'compliance'],
      [[String(s.sla.handoffs), String(s.sla.answered), String(s.sla.answered_in_time), String(s.sla.overdue), s.sla.compliance === null ? '–' : `${(100 * s.sla.compliance).toFixed(1)}%`]],
      [0, 1, 2, 3, 4],
    ),
  ];
  return lines;
}
