// Shared fixtures for the campaign core's tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatCampaignError, parseCampaign, type Campaign, type LeadSnapshot } from '../../campaign';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function campaignFile(name: string, edit?: (text: string) => string): Campaign {
  let text = readFileSync(fileURLToPath(new URL(`../../campaigns/${name}.yaml`, import.meta.url)), 'utf8');
  if (edit) text = edit(text);
  const result = parseCampaign(text);
  if (!result.ok) throw new Error(result.errors.map(formatCampaignError).join('\n'));
  return result.campaign;
}

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
