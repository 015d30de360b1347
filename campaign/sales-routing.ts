// Who gets a handoff. Routing rules (the campaign's, then the pool's) choose a pool and a group of
// reps; among them, availability-aware weighted round robin chooses the owner. Pure: the caller
// reads the team (with each rep's open handoffs and absences) and stores the new passes.
//
// Weighted round robin is stride scheduling: each rep has a pass, the rep with the lowest pass is
// chosen and their pass grows by 1/weight, so a rep of weight 2 is chosen twice as often. A rep
// coming back from an absence (whose pass fell behind) starts at the pool's pass — the lowest
// pass chosen so far — instead of taking every lead until caught up. Ties go to the rep with the
// fewest assignments, then the one waiting longest, then the team's order: equally weighted reps
// who stay available differ by at most one assignment.
import { holds, type BehaviourView } from './conditions';
import type { AssignmentRule, HandoffRoute, RepMatch, RoutingRule } from './types';

export interface RoutingRep {
  id: string;
  name: string;
  email: string;
  active: boolean;
  weight: number;
  /** Most open handoffs at once; null: no limit. */
  capacity: number | null;
  /** Open handoffs (pending or accepted) the rep owns now. */
  open: number;
  /** End of the absence covering now, if any (ms). */
  awayUntil: number | null;
  pass: number;
  assignedTotal: number;
  lastAssignedAt: number | null;
  territories: string[];
  products: string[];
  languages: string[];
}

/** Why a rep cannot take a lead now, or undefined when they can (the one rule routing, the desk and the API share). */
export function unavailability(rep: Pick<RoutingRep, 'active' | 'awayUntil' | 'capacity' | 'open'>): string | undefined {
  if (!rep.active) return 'inactive';
  if (rep.awayUntil !== null) return `out of office until ${new Date(rep.awayUntil).toISOString()}`;
  if (rep.capacity !== null && rep.open >= rep.capacity) return `at capacity (${rep.open} of ${rep.capacity} open handoffs)`;
  return undefined;
}

const MATCH_FIELDS = { territory: 'territories', product: 'products', language: 'languages' } as const;

/** Whether the rep covers every value of the match (case-insensitive). */
export function coversMatch(rep: RoutingRep, match: HandoffRoute['match']): boolean {
  return (Object.keys(MATCH_FIELDS) as (keyof typeof MATCH_FIELDS)[]).every((field) => {
    const wanted = match[field];
    return wanted === undefined || rep[MATCH_FIELDS[field]].some((value) => value.toLowerCase() === wanted);
  });
}

export interface RoutingDecision {
  owner?: RoutingRep;
  /** The owner's pass after the choice, and the pool's new pass. */
  ownerPass?: number;
  poolPass?: number;
  /** Every rep of the group not chosen, with why (unavailable, excluded, not covering the match). */
  skipped: { rep: string; reason: string }[];
  /** How the group was formed, e.g. "reps covering territory apac" or "the whole pool (nobody covers territory apac)". */
  group: string;
}

/**
 * Chooses among `reps` (the route's pool, in team order): those in `route.reps` (if given), those
 * covering the match (else the whole pool, said in `group`), available and not in `exclude`.
 */
export function chooseOwner(reps: RoutingRep[], route: Pick<HandoffRoute, 'match' | 'reps'>, poolPass: number, exclude: readonly string[] = []): RoutingDecision {
  const skipped: RoutingDecision['skipped'] = [];
  let group = route.reps?.length ? reps.filter((rep) => route.reps!.includes(rep.email.toLowerCase())) : reps;
  let description = route.reps?.length ? `the reps ${route.reps.join(', ')}` : 'the whole pool';
  const matchText = describeMatch(route.match);
  if (matchText) {
    const covering = group.filter((rep) => coversMatch(rep, route.match));
    const coveringAvailable = covering.filter((rep) => !unavailability(rep) && !exclude.includes(rep.id));
    if (coveringAvailable.length > 0) {
      for (const rep of group) if (!covering.includes(rep)) skipped.push({ rep: rep.email, reason: `does not cover ${matchText}` });
      group = covering;
      description = `reps covering ${matchText}`;
    } else {
      description = `${description} (${covering.length ? 'everyone' : 'nobody'} covering ${matchText} ${covering.length ? 'is unavailable' : 'in the pool'})`;
    }
  }
  let owner: RoutingRep | undefined;
  let best = Infinity;
  for (const rep of group) {
    const reason = exclude.includes(rep.id) ? 'already had this lead' : unavailability(rep);
    if (reason) {
      skipped.push({ rep: rep.email, reason });
      continue;
    }
    const pass = Math.max(rep.pass, poolPass);
    if (!owner || pass < best || (pass === best && comesFirst(rep, owner))) {
      owner = rep;
      best = pass;
    }
  }
  for (const rep of group) if (owner && rep !== owner && !skipped.some((s) => s.rep === rep.email)) skipped.push({ rep: rep.email, reason: 'not next in turn' });
  if (!owner) return { skipped, group: description };
  return { owner, ownerPass: best + 1 / owner.weight, poolPass: best, skipped, group: description };
}

function comesFirst(a: RoutingRep, b: RoutingRep): boolean {
  if (a.assignedTotal !== b.assignedTotal) return a.assignedTotal < b.assignedTotal;
  return (a.lastAssignedAt ?? -Infinity) < (b.lastAssignedAt ?? -Infinity);
}

function describeMatch(match: HandoffRoute['match']): string {
  return (Object.keys(MATCH_FIELDS) as (keyof typeof MATCH_FIELDS)[])
    .filter((field) => match[field] !== undefined)
    .map((field) => `${field} ${match[field]}`)
    .join(' and ');
}

/** The lead's value at an attribute path ('lead.region', 'region', 'company.country'), lower case. */
export function leadValue(attributes: Record<string, unknown>, path: string): string | undefined {
  let value: unknown = attributes;
  for (const part of path.replace(/^lead\./, '').split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : undefined;
}

function resolveMatch(match: RepMatch | undefined, attributes: Record<string, unknown>): HandoffRoute['match'] {
  const resolved: HandoffRoute['match'] = {};
  for (const field of Object.keys(MATCH_FIELDS) as (keyof RepMatch)[]) {
    const path = match?.[field];
    const value = path === undefined ? undefined : leadValue(attributes, path);
    if (value !== undefined) resolved[field] = value;
  }
  return resolved;
}

/**
 * Where the campaign's rules send the lead: the first rule whose condition holds (a rule's pool,
 * match and reps replace the defaults it names), else the assignment's own pool and match.
 */
export function routeHandoff(assign: AssignmentRule, context: { lead: Record<string, unknown> } & Record<string, unknown>, behaviour: BehaviourView): HandoffRoute {
  const defaultMatch: RepMatch = assign.match ?? (assign.strategy === 'territory' && assign.territoryBy ? { territory: assign.territoryBy } : {});
  const rules = assign.rules ?? [];
  const index = rules.findIndex((rule) => rule.when === undefined || holds(rule.when, context, behaviour));
  const rule: RoutingRule | undefined = rules[index];
  return {
    pool: rule?.pool ?? assign.pool,
    match: resolveMatch(rule?.match ?? defaultMatch, context.lead),
    ...(rule?.reps && { reps: rule.reps.map((email) => email.toLowerCase()) }),
    rule: rule ? `rule ${index + 1}${rule.when ? ` (${rule.when})` : ''}` : 'default',
  };
}

/**
 * The pool's own rules refine a route that names no group yet (no match, no reps): the first rule
 * whose condition holds on the lead's current data and score gives the match or reps.
 */
export function refineByPoolRules(route: HandoffRoute, rules: RoutingRule[], context: { lead: Record<string, unknown>; score: number }): HandoffRoute {
  if (Object.keys(route.match).length > 0 || route.reps?.length) return route;
  const noBehaviour: BehaviourView = { now: 0, events: [] };
  const index = rules.findIndex((rule) => rule.when === undefined || holds(rule.when, context, noBehaviour));
  const rule = rules[index];
  if (!rule) return route;
  return {
    ...route,
    match: resolveMatch(rule.match, context.lead),
    ...(rule.reps && { reps: rule.reps.map((email) => email.toLowerCase()) }),
    rule: `${route.rule}, then pool rule ${index + 1}${rule.when ? ` (${rule.when})` : ''}`,
  };
}
