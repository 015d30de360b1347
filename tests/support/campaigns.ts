// The example campaigns (campaigns/*.yaml) as tests load them, and the units tests move time by.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatCampaignError, parseCampaign, type Campaign } from '../../campaign';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** campaigns/<name>.yaml, compiled; `edit` changes the text first. */
export function loadCampaign(name: string, edit?: (text: string) => string): Campaign {
  let text = readFileSync(fileURLToPath(new URL(`../../campaigns/${name}.yaml`, import.meta.url)), 'utf8');
  if (edit) text = edit(text);
  const result = parseCampaign(text);
  if (!result.ok) throw new Error(result.errors.map(formatCampaignError).join('\n'));
  return result.campaign;
}
