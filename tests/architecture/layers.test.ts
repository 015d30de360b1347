// The layering of ARCHITECTURE.md, checked over the TypeScript import graph: each folder imports
// only the folders it may (a lower layer never imports a higher one), no module takes part in an
// import cycle, and no folder but db/ holds SQL.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * What each folder may import (besides itself and packages), read from the table in
 * ARCHITECTURE.md — `name` or `name` (types only) in its last column; tests/ may import anything.
 */
function layering(): Record<string, readonly string[]> {
  const rules: Record<string, string[]> = {};
  for (const line of readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8').split('\n')) {
    const row = /^\| `([a-z]+)\/`(?:, `[a-z]+\/`)? \|.*\| (.+) \|$/.exec(line);
    if (!row || row[1] === 'tests') continue;
    rules[row[1]!] = [...row[2]!.matchAll(/`([a-z]+)`( \(types only)?/g)].map(([, folder, typesOnly]) => (typesOnly ? `${folder} (types only)` : folder!));
  }
  return rules;
}
const MAY_IMPORT = layering();

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name.startsWith('.') ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined; // a package
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.js`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`${relative(ROOT, from)}: cannot resolve import '${specifier}'`);
}

/** Every import, re-export and dynamic import() of a file, with whether it is erased at compile time. */
function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteral(specifier)) return;
    const to = resolveImport(file, specifier.text);
    if (to) edges.push({ from: file, to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const onlyTypes = Boolean(
        clause &&
          (clause.isTypeOnly ||
            (!clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((element) => element.isTypeOnly))),
      );
      add(node.moduleSpecifier, onlyTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const folderOf = (file: string) => relative(ROOT, file).split('/')[0]!;
const name = (file: string) => relative(ROOT, file);

/** The arrows that go where their folder may not. */
function wrongArrows(edges: Edge[]): string[] {
  return edges
    .filter(({ from, to, typeOnly }) => {
      const [source, target] = [folderOf(from), folderOf(to)];
      if (source === target) return false;
      const allowed = MAY_IMPORT[source] ?? [];
      return !allowed.includes(target) && !(typeOnly && allowed.includes(`${target} (types only)`));
    })
    .map(({ from, to, typeOnly }) => `${name(from)} → ${name(to)}${typeOnly ? ' (types)' : ''}`);
}

/** The import cycles (Tarjan's strongly connected components of more than one module, or a module importing itself). */
function importCycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const connect = (file: string) => {
    order.set(file, index);
    low.set(file, index++);
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (!order.has(to)) {
        connect(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(file, Math.min(low.get(file)!, order.get(to)!));
    }
    if (low.get(file) === order.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(name(member));
      } while (member !== file);
      if (component.length > 1 || (next.get(file) ?? []).includes(file)) cycles.push(component.sort());
    }
  };
  for (const file of next.keys()) if (!order.has(file)) connect(file);
  return cycles;
}

const files = Object.keys(MAY_IMPORT).flatMap((folder) => sourceFiles(join(ROOT, folder)));
const edges = files.flatMap(importsOf);
const at = (path: string) => join(ROOT, path);

describe('the import graph', () => {
  it('reads the layering from ARCHITECTURE.md', () => {
    expect(MAY_IMPORT.workflows).toEqual(['campaign', 'activities (types only)']);
    expect(MAY_IMPORT.runtime).toEqual([]);
    expect(Object.keys(MAY_IMPORT)).toEqual(expect.arrayContaining(['campaign', 'db', 'mail', 'activities', 'worker', 'api', 'cli', 'bench', 'devserver']));
  });

  it('has every source folder in the layering', () => {
    const folders = readdirSync(ROOT).filter((entry) => !entry.startsWith('.') && entry !== 'node_modules' && statSync(join(ROOT, entry)).isDirectory());
    const withCode = folders.filter((folder) => sourceFiles(join(ROOT, folder)).length > 0);
    expect(withCode.filter((folder) => folder !== 'tests' && !(folder in MAY_IMPORT))).toEqual([]);
  });

  it('sees the imports of every module', () => {
    expect(edges.filter(({ from }) => folderOf(from) === 'api').length).toBeGreaterThan(50);
    expect(importsOf(at('workflows/nurture.ts')).some(({ to, typeOnly }) => folderOf(to) === 'activities' && typeOnly)).toBe(true);
  });

  it('has no arrow to a folder the importing folder may not use', () => {
    expect(wrongArrows(edges)).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it('would report a wrong arrow and a cycle', () => {
    expect(
      wrongArrows([
        { from: at('db/leads.ts'), to: at('api/app.ts'), typeOnly: false },
        { from: at('workflows/nurture.ts'), to: at('activities/send.ts'), typeOnly: false },
        { from: at('workflows/nurture.ts'), to: at('activities/send.ts'), typeOnly: true },
      ]),
    ).toEqual(['db/leads.ts → api/app.ts', 'workflows/nurture.ts → activities/send.ts']);
    expect(
      importCycles([
        { from: at('a.ts'), to: at('b.ts'), typeOnly: false },
        { from: at('b.ts'), to: at('a.ts'), typeOnly: false },
      ]),
    ).toEqual([['a.ts', 'b.ts']]);
  });

  it('the layering itself has no circle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const circles: string[] = [];
    const walk = (folder: string, path: string[]) => {
      if (done.has(folder)) return;
      if (visiting.has(folder)) return void circles.push([...path, folder].join(' → '));
      visiting.add(folder);
      for (const target of MAY_IMPORT[folder] ?? []) walk(target.replace(' (types only)', ''), [...path, folder]);
      visiting.delete(folder);
      done.add(folder);
    };
    for (const folder of Object.keys(MAY_IMPORT)) walk(folder, []);
    expect(circles).toEqual([]);
  });
});

/** Every text file of the project outside node_modules, .git and the given top-level folders. */
function textFiles(dir: string, skip: readonly string[]): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry.startsWith('.') || (dir === ROOT && skip.includes(entry))) return [];
    if (statSync(path).isDirectory()) return textFiles(path, skip);
    return /\.(ts|js|mjs|md|ya?ml|mjml|json|html|css|sh)$/.test(entry) && entry !== 'package-lock.json' ? [path] : [];
  });
}

describe('SQL', () => {
  it('lives in db/ only', () => {
    const SQL = /\b(SELECT|INSERT|UPDATE|DELETE)\b/;
    const outside = textFiles(ROOT, ['db', 'tests']).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (SQL.test(line) ? [`${name(file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(outside).toEqual([]);
  });
});
