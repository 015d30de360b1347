// `nurture validate <file>`: checks a campaign file and lists every problem with its line.
import { readFile } from 'node:fs/promises';
import { formatCampaignError, parseCampaign } from '../../campaign';
import { TemplateLibrary } from '../../mail/renderer';
import { EXIT, type CommandOutput } from '../exit-codes';

export async function validateCommand(file: string, out: CommandOutput): Promise<number> {
  let text: string;
  try {
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
  const steps = Object.values(c.tracks).reduce((n, track) => n + track.length, 0);
  out.log(`${file}: valid — campaign "${c.id}" (${c.name}): ${steps} top-level steps, ${c.triggers.length} triggers, ` +
    `stages warm ≥ ${c.stages.warm}, hot ≥ ${c.stages.hot}${c.handoff ? `, hands off to pool ${c.handoff.assign.pool}` : ''}`);
  return EXIT.ok;
}
