// Reading a campaign file: YAML or JSON text → checked, compiled campaign, with the line of
// every problem in a YAML file.
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { fnv1a } from './ab';
import { compileCampaign, type CompileOptions } from './schema';
import type { Campaign, CampaignError } from './types';

export type CampaignResult = { ok: true; campaign: Campaign } | { ok: false; errors: CampaignError[] };

export function validateCampaign(input: unknown, options: CompileOptions = {}): CampaignResult {
  return compileCampaign(input, options);
}

/** `source` names where the text came from (a file name), for the messages about the text as a whole. */
export function parseCampaign(text: string, options: { format?: 'yaml' | 'json'; source?: string } & CompileOptions = {}): CampaignResult {
  const where = options.source ? ` in ${options.source}` : '';
  const format = options.format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { ok: false, errors: [{ path: '(file)', message: `invalid JSON${where}: ${(error as Error).message}` }] };
    }
    return compileCampaign(value, options);
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length) {
    return {
      ok: false,
      errors: document.errors.map((error) => {
        const position = lines.linePos(error.pos[0]);
        return { path: '(file)', message: `invalid YAML${where}: ${error.message.split('\n')[0]}`, line: position.line, column: position.col };
      }),
    };
  }
  const result = compileCampaign(document.toJS(), options);
  if (result.ok) return result;
  return { ok: false, errors: result.errors.map((error) => ({ ...error, ...positionOf(document, lines, error.path) })) };
}

/** `tracks.cold[2].wait_for.timeout` → ['tracks', 'cold', 2, 'wait_for', 'timeout']. */
function pathKeys(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) keys.push(index !== undefined ? Number(index) : key!);
  return keys;
}

/** Line of the value at `path`, or of its nearest existing parent when it is missing. */
function positionOf(document: Document, lines: LineCounter, path: string): { line?: number; column?: number } {
  const keys = pathKeys(path);
  for (let length = keys.length; length >= 0; length--) {
    const node = length === 0 ? document.contents : document.getIn(keys.slice(0, length), true);
    if (isNode(node) && node.range) {
      const position = lines.linePos(node.range[0]);
      return { line: position.line, column: position.col };
    }
  }
  return {};
}

export function formatCampaignError(error: CampaignError): string {
  return `${error.path}${error.line ? ` (line ${error.line})` : ''}: ${error.message}`;
}

/** A stable content hash of the compiled campaign (keys sorted), naming a version. */
export function campaignHash(campaign: Campaign): string {
  const canonical = (value: unknown): string =>
    Array.isArray(value)
      ? `[${value.map(canonical).join(',')}]`
      : value && typeof value === 'object'
        ? `{${Object.keys(value)
            .sort()
            .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
            .join(',')}}`
        : JSON.stringify(value);
  const text = canonical(campaign);
  // Two differently seeded 32-bit hashes: plenty to tell versions of one campaign apart.
  return fnv1a(text).toString(16).padStart(8, '0') + fnv1a(`${text.length}:${text}`).toString(16).padStart(8, '0');
}
