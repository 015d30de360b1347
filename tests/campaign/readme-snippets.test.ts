// Every YAML snippet of campaigns/README.md is checked by the validator, as a marketer copying it
// would use it: a whole campaign as it is; a list of steps in a track of a small campaign; a
// section (handoff:, events:, …) in place of that campaign's own. The deliberately broken example
// gives exactly the messages printed under it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { formatCampaignError, parseCampaign } from '../../campaign';

const README = readFileSync(fileURLToPath(new URL('../../campaigns/README.md', import.meta.url)), 'utf8');
const blocks = [...README.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((match) => ({ lang: match[1]!, text: match[2]!, line: README.slice(0, match.index).split('\n').length + 1 }));

/** A campaign that every snippet fits into; its handoff section makes qualify and handoff steps valid. */
const BASE = {
  id: 'snippet',
  name: 'Snippet',
  from: { email: 'marketing@acme.example' },
  entry: { on: 'asset.downloaded' },
  consent: 'marketing_email',
  scoring: { behaviour: [{ on: 'page.viewed', points: 5, label: 'page views' }] },
  stages: { warm: 30, hot: 60 },
  tracks: { cold: [{ email: { template: 'welcome', subject: 'Hi' } }, { wait: '3d' }] },
  handoff: { assign: { pool: 'sales' }, sla: { first_contact: '1 business day' } },
};

function asCampaign(snippet: unknown): string {
  if (Array.isArray(snippet)) return stringify({ ...BASE, tracks: { cold: [...BASE.tracks.cold, ...snippet] } });
  const fields = snippet as Record<string, unknown>;
  return 'id' in fields ? stringify(fields) : stringify({ ...BASE, ...fields });
}

describe('the snippets of campaigns/README.md', () => {
  const yamlBlocks = blocks.filter((block) => block.lang === 'yaml');
  it('has snippets to check', () => expect(yamlBlocks.length).toBeGreaterThanOrEqual(10));

  for (const block of yamlBlocks) {
    if (block.text.startsWith('# broken.yaml')) {
      it(`line ${block.line}: the broken example gives the messages printed under it`, () => {
        const printed = blocks[blocks.indexOf(block) + 1]!;
        expect(printed.lang).toBe('text');
        const result = parseCampaign(block.text);
        expect(result.ok).toBe(false);
        const lines = result.ok ? [] : result.errors.map((error) => `broken.yaml: ${formatCampaignError(error)}`);
        expect([...lines, `${lines.length} problems found`].join('\n')).toBe(printed.text.trim());
      });
      continue;
    }
    it(`line ${block.line}: validates without a warning`, () => {
      const result = parseCampaign(asCampaign(parseYaml(block.text)));
      expect(result.ok ? result.warnings.map(formatCampaignError) : result.errors.map(formatCampaignError)).toEqual([]);
    });
  }
});
