// The tracks as a graph of steps, for the one question validation asks of it: can a lead go
// round a goto loop without ever waiting? Such a lead runs the loop at once, again and again,
// until the interpreter's step limit exits it.
import type { Stage, Step } from './types';
import { STAGES } from './types';

/** Every step of the tracks with its path (`tracks.cold[2].then[0]`), blocks included, in order. */
export function eachStep(tracks: Record<Stage, Step[]>, visit: (step: Step, path: string) => void): void {
  const walk = (steps: Step[], base: string) =>
    steps.forEach((step, i) => {
      const path = `${base}[${i}]`;
      visit(step, path);
      if (step.kind === 'branch' || step.kind === 'wait_for') {
        walk(step.then, `${path}.then`);
        walk(step.else, `${path}.else`);
      }
    });
  for (const stage of STAGES) walk(tracks[stage], `tracks.${stage}`);
}

interface Node {
  step: Step;
  path: string;
  /** The step that follows when this one is done (after its block, for the last of a block). */
  next?: string;
}

function nodesOf(tracks: Record<Stage, Step[]>): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const walk = (steps: Step[], base: string, after: string | undefined) =>
    steps.forEach((step, i) => {
      const path = `${base}[${i}]`;
      const next = i + 1 < steps.length ? `${base}[${i + 1}]` : after;
      nodes.set(path, { step, path, next });
      if (step.kind === 'branch' || step.kind === 'wait_for') {
        walk(step.then, `${path}.then`, next);
        walk(step.else, `${path}.else`, next);
      }
    });
  for (const stage of STAGES) walk(tracks[stage], `tracks.${stage}`, undefined);
  return nodes;
}

/** Where a lead may go from a step without waiting (a wait or wait_for stops the walk; exit ends it). */
function successors(node: Node, labels: Map<string, string>, tracks: Record<Stage, Step[]>): string[] {
  const { step, path, next } = node;
  const following = next ? [next] : [];
  switch (step.kind) {
    case 'wait':
    case 'wait_for':
    case 'exit':
    case 'suppress':
      return [];
    case 'branch':
      return [step.then.length ? `${path}.then[0]` : next, step.else.length ? `${path}.else[0]` : next].filter((p): p is string => p !== undefined);
    case 'goto': {
      const target = 'label' in step.target ? labels.get(step.target.label) : tracks[step.target.stage].length ? `tracks.${step.target.stage}[0]` : undefined;
      return target ? [target] : [];
    }
    default:
      return following;
  }
}

/** The paths of the gotos that close a loop with no wait in it, each once. */
export function loopsWithoutWait(tracks: Record<Stage, Step[]>): string[] {
  const nodes = nodesOf(tracks);
  const labels = new Map([...nodes.values()].filter((n) => n.step.label).map((n) => [n.step.label!, n.path]));
  const state = new Map<string, 'open' | 'done'>();
  const found = new Set<string>();
  // Depth-first, iteratively (a track may be long): an edge back to an open step is a loop, and
  // the goto on the way is the step to blame.
  for (const start of nodes.keys()) {
    if (state.has(start)) continue;
    const stack: { path: string; edges: string[] }[] = [{ path: start, edges: successors(nodes.get(start)!, labels, tracks) }];
    state.set(start, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const edge = top.edges.shift();
      if (edge === undefined) {
        state.set(top.path, 'done');
        stack.pop();
        continue;
      }
      if (state.get(edge) === 'open') {
        const from = stack.findIndex((frame) => frame.path === edge);
        const gotoInLoop = stack.slice(from).reverse().find((frame) => nodes.get(frame.path)!.step.kind === 'goto');
        found.add(`${(gotoInLoop ?? top).path}.goto`);
      } else if (!state.has(edge)) {
        state.set(edge, 'open');
        stack.push({ path: edge, edges: successors(nodes.get(edge)!, labels, tracks) });
      }
    }
  }
  return [...found];
}
