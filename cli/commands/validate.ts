// `nurture validate <file>`: checks a campaign file and lists every problem with its line.
import { readFile, stat } from 'node:fs/promises';
import { abTestPlans, CAMPAIGN_TEXT_LIMITS, describeAbPlan, formatCampaignError, parseCampaign } from '../../campaign';
import { TemplateLibrary } from '../../mail/renderer';
import { EXIT, type CommandOutput } from '../exit-codes';

export async function validateCommand(file: string, out: CommandOutput, options: { strict?: boolean } = {}): Promise<number> {
  let text: string;
  try {
    // Not read at all when even its bytes are too many (a character is at most 4 bytes in UTF-8);
    // otherwise the parser's limits apply to its text.
    const { size } = await stat(file);
    if (size > 4 * CAMPAIGN_TEXT_LIMITS.maxLength) {
      out.error(`${file}: (file): the campaign is too large: ${size.toLocaleString('en-US')} bytes, the most accepted is ${CAMPAIGN_TEXT_LIMITS.maxLength.toLocaleString('en-US')} characters`);
      out.error('1 problem found');
      return EXIT.invalid;
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    out.error(`cannot read ${file}: ${(error as Error).message}`);
    return EXIT.invalid;
  }
  const templates = new TemplateLibrary();
  const result = parseCampaign(text, { format: file.endsWith('.json') ? 'json' : 'yaml', templateExists: (name) => templates.has(name) });
  if (!result.ok) {
    for (const error of result.errors) out.error(`${file}: ${formatCampaignError(error)}`);
    out.error(`${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} found`);
    return EXIT.invalid;
  }
  const c = result.campaign;
  const { warnings } = result;
  for (const warning of warnings) out.error(`${file}: warning: ${formatCampaignError(warning)}`);
  const warned = `${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
  if (options.strict && warnings.length) {
    out.error(`${warned}; --strict fails on warnings`);
    return EXIT.invalid;
  }
  const steps = Object.values(c.tracks).reduce((n, track) => n + track.length, 0);
  out.log(`${file}: valid${warnings.length ? ` with ${warned}` : ''} — campaign "${c.id}" (${c.name}): ${steps} top-level steps, ${c.triggers.length} triggers, ` +
    `stages warm ≥ ${c.stages.warm}, hot ≥ ${c.stages.hot}${c.handoff ? `, hands off to pool ${c.handoff.assign.pool}` : ''}`);
  // Before launch: what each A/B test can find, and how many sends that takes.
  for (const { path, plan } of abTestPlans(c)) out.log(`  A/B test at ${path}: ${describeAbPlan(plan)}`);
  return EXIT.ok;
}
