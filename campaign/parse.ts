// Reading a campaign file: YAML or JSON text → checked, compiled campaign, with the line of
// every problem in a YAML file.
//
// The text may come from anyone with an API key, so reading it is bounded (CAMPAIGN_TEXT_LIMITS)
// before anything costly runs: its length first; its nesting as the YAML parser reads it, token
// by token, refusing the document at the first level too deep (before nodes are composed, where
// deep nesting cost seconds and overflowed the stack); the number of aliases, how far they may
// expand (an alias bomb) and the size of the value they expand to. Every refusal is a
// CampaignError on `(file)`, with its line when there is one, never an exception.
import { Composer, CST, isAlias, isCollection, isNode, isScalar, Lexer, LineCounter, Parser, visit, YAMLParseError, type Document } from 'yaml';
import { fnv1a } from './ab';
import { canonicalJson } from './canonical-json';
import { compileCampaign, type CompileOptions } from './schema';
import type { Campaign, CampaignError } from './types';

/** A campaign that compiles may still carry warnings (campaign/lint.ts): mistakes that would not fail, but would not work. */
export type CampaignResult = { ok: true; campaign: Campaign; warnings: CampaignError[] } | { ok: false; errors: CampaignError[] };

export function validateCampaign(input: unknown, options: CompileOptions = {}): CampaignResult {
  return compileCampaign(input, options);
}

/**
 * What a campaign's text may be. A real campaign is a few kilobytes, nests about 8 levels deep
 * and uses no alias or a handful; the bounds are far above that, and the worst text they admit
 * takes about 2 s to read (the API reads campaigns in a worker thread; README, "Limits").
 */
export const CAMPAIGN_TEXT_LIMITS = {
  /** Characters of YAML or JSON text (the API refuses a larger body, in bytes, with 413 before reading it). */
  maxLength: 256 * 1024,
  /** Levels of mappings and sequences inside one another, block or flow (`[`, `{`), counted as the YAML parser nests them. */
  maxDepth: 64,
  /** Aliases (`*name`) in the text; also yaml's maxAliasCount, how many times the aliased nodes may be expanded. */
  maxAliases: 100,
  /** The value with every alias expanded: characters of its keys and texts plus one per value. */
  maxExpandedSize: 1024 * 1024,
} as const;

const L = CAMPAIGN_TEXT_LIMITS;

/** `source` names where the text came from (a file name), for the messages about the text as a whole. */
export function parseCampaign(text: string, options: { format?: 'yaml' | 'json'; source?: string } & CompileOptions = {}): CampaignResult {
  const where = options.source ? ` in ${options.source}` : '';
  const refuse = (message: string, line?: number): CampaignResult => ({ ok: false, errors: [{ path: '(file)', message, ...(line ? { line } : {}) }] });
  if (text.length > L.maxLength) {
    return refuse(`the campaign${where} is too large: ${text.length.toLocaleString('en-US')} characters, the most accepted is ${L.maxLength.toLocaleString('en-US')}`);
  }
  const format = options.format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  if (format === 'json') {
    const deep = jsonTooDeep(text);
    if (deep) return refuse(`the campaign${where} is nested too deeply: more than ${L.maxDepth} levels`, deep.line);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return refuse(`invalid JSON${where}: ${(error as Error).message}`);
    }
    return compileCampaign(value, options);
  }
  const lines = new LineCounter();
  const read = readYaml(text, lines);
  if ('refused' in read) return refuse(read.refused.replace(/^(the campaign|invalid YAML)/, `$1${where}`), read.line);
  const { document } = read;
  if (document.errors.length) {
    return {
      ok: false,
      errors: document.errors.map((error) => {
        const position = lines.linePos(error.pos[0]);
        return { path: '(file)', message: `invalid YAML${where}: ${error.message.split('\n')[0]}`, line: position.line, column: position.col };
      }),
    };
  }
  let value: unknown;
  try {
    // yaml counts the anchored node as its first use: one more lets every alias of one anchor through.
    value = document.toJS({ maxAliasCount: L.maxAliases + 1 });
  } catch (error) {
    // yaml refuses an alias bomb here ("Excessive alias count indicates a resource exhaustion attack").
    const message = (error as Error).message;
    return refuse(/alias count/i.test(message) ? `the aliases of the campaign${where} expand too much (more than ${L.maxAliases} expansions): an alias bomb?` : `invalid YAML${where}: ${message}`, read.firstAliasLine);
  }
  if (expandedSizeAbove(value, L.maxExpandedSize)) {
    return refuse(`the aliases of the campaign${where} expand it beyond ${L.maxExpandedSize.toLocaleString('en-US')} characters`, read.firstAliasLine);
  }
  const result = compileCampaign(value, options);
  const located = (error: CampaignError) => ({ ...error, ...positionOf(document, lines, error.path) });
  if (result.ok) return { ...result, warnings: result.warnings.map(located) };
  return { ok: false, errors: result.errors.map(located) };
}

/** Syntax errors the parser may report before reading stops. */
const MAX_YAML_ERRORS = 100;

type YamlRead = { document: Document.Parsed; firstAliasLine?: number } | { refused: string; line?: number };

class Refusal extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * yaml's parseDocument, with the bounds checked on the way: the lexer's tokens are fed to the
 * parser one by one (its documented streaming use), and the parser's stack of open nodes is the
 * nesting as it is being built, so a document is refused at its first token too deep and too
 * many aliases are refused before anything is composed. Mapping keys are checked for
 * duplicates afterwards in linear time (yaml's own `uniqueKeys` check is quadratic in the
 * number of keys of a mapping).
 */
function readYaml(text: string, lines: LineCounter): YamlRead {
  const parser = new Parser(lines.addNewLine);
  let aliases = 0;
  let errors = 0;
  let firstError: CST.ErrorToken | undefined;
  let firstAliasOffset: number | undefined;
  function* tokens(): Generator<CST.Token> {
    lines.addNewLine(0);
    let scalarNext = false;
    for (const lexeme of new Lexer().lex(text)) {
      // After the scalar marker comes the scalar's text, whatever it starts with.
      if (scalarNext) scalarNext = false;
      else if (lexeme === CST.SCALAR) scalarNext = true;
      else if (lexeme[0] === '*' && ++aliases > L.maxAliases) throw new Refusal(`the campaign has too many aliases: more than ${L.maxAliases}`, parser.offset);
      else if (lexeme[0] === '*') firstAliasOffset ??= parser.offset;
      for (const token of parser.next(lexeme)) {
        // A text of nothing but errors (a stray `}` per line) would cost seconds of error objects.
        if (token.type === 'error') {
          firstError ??= token;
          if (++errors > MAX_YAML_ERRORS) {
            const first = `line ${lines.linePos(firstError.offset).line}: ${firstError.message}`;
            throw new Refusal(`invalid YAML: more than ${MAX_YAML_ERRORS} syntax errors, the first on ${first}`, firstError.offset);
          }
        }
        yield token;
      }
      if (parser.stack.length > L.maxDepth + 1 && nestingOf(parser.stack) > L.maxDepth) {
        throw new Refusal(`the campaign is nested too deeply: more than ${L.maxDepth} levels`, parser.offset);
      }
    }
    yield* parser.end();
  }
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  let document: Document.Parsed | undefined;
  try {
    for (const composed of composer.compose(tokens(), true, text.length)) {
      if (!document) document = composed;
      else {
        document.errors.push(new YAMLParseError(composed.range.slice(0, 2) as [number, number], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return { refused: error.message, line: lines.linePos(error.offset).line };
  }
  if (!document) return { refused: 'the campaign is not a YAML document' };
  if (!document.errors.length) duplicateKeys(document);
  return { document, firstAliasLine: firstAliasOffset === undefined ? undefined : lines.linePos(firstAliasOffset).line };
}

/** Collections among the parser's open nodes (the document and a scalar being read are not levels). */
function nestingOf(stack: CST.Token[]): number {
  let depth = 0;
  for (const token of stack) if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') depth++;
  return depth;
}

/**
 * yaml's DUPLICATE_KEY error ("Map keys must be unique": equal scalar keys), found with one set
 * per mapping; and keys that are collections or aliases, which a campaign never has (yaml would
 * turn them into text, at a cost that grows with their nesting).
 */
function duplicateKeys(document: Document.Parsed): void {
  visit(document, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (document.errors.length >= MAX_YAML_ERRORS) return visit.BREAK;
        if (isCollection(pair.key) || isAlias(pair.key)) {
          const range = pair.key.range ?? [0, 0];
          document.errors.push(new YAMLParseError([range[0], range[1]], 'NON_STRING_KEY', 'a mapping key must be a plain value, not a collection or an alias'));
          continue;
        }
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          document.errors.push(new YAMLParseError([pair.key.range?.[0] ?? 0, pair.key.range?.[1] ?? 0], 'DUPLICATE_KEY', 'Map keys must be unique'));
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
}

/** Whether JSON text opens more than maxDepth arrays and objects inside one another; the line where it does. */
function jsonTooDeep(text: string): { line: number } | undefined {
  let depth = 0;
  let line = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    else if (inString) {
      if (ch === 92) i++; // backslash: the next character is escaped
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      if (++depth > L.maxDepth) return { line };
    } else if (ch === 93 || ch === 125) depth--;
  }
  return undefined;
}

/**
 * Whether the value, walked with every alias expanded (an alias is the same object reached
 * again), is larger than `limit`: characters of keys and strings plus one per value. Stops as
 * soon as it is, so it costs at most about `limit` steps.
 */
function expandedSizeAbove(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    size += 1;
    if (typeof item === 'string') size += item.length;
    else if (Array.isArray(item)) for (const child of item) stack.push(child);
    else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        size += key.length;
        stack.push(child);
      }
    }
    if (size > limit) return true;
  }
  return false;
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
  return `${error.path}${error.line ? ` (line ${error.line})` : ''}: ${error.message}${error.suggestion ? `; did you mean ${error.suggestion}?` : ''}`;
}

/** A stable content hash of the compiled campaign (keys sorted), naming a version. */
export function campaignHash(campaign: Campaign): string {
  const text = canonicalJson(campaign);
  // Two differently seeded 32-bit hashes: plenty to tell versions of one campaign apart.
  return fnv1a(text).toString(16).padStart(8, '0') + fnv1a(`${text.length}:${text}`).toString(16).padStart(8, '0');
}
