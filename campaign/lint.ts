// Warnings about a campaign that compiles but would not do what its author meant: a misspelt
// event type nobody will ever send, a lead attribute no lead has, a stage no score can reach,
// defaults dropped without a word. Each names its path and, where one fits, a suggestion;
// `nurture validate --strict` fails on them.
import type { Campaign, CampaignError } from './types';
import { DEFAULT_EXIT_ON, LEAD_UPDATED, TAGS_ATTRIBUTE } from './types';
import { abTestPlans, describeAbPlan, IMPRACTICAL_SENDS_PER_VARIANT } from './ab-test';
import { eachStep } from './step-graph';
import { closest } from './suggest';

type Raw = Record<string, unknown>;

/** What the engine itself produces or reads by default: never unknown. */
const BUILT_IN_EVENT_TYPES = ['email.opened', 'email.clicked', 'unsubscribed', 'bounced', 'converted', LEAD_UPDATED] as const;
/** Lead attributes every lead has (email_domain is derived from the address). */
const BUILT_IN_ATTRIBUTES = ['email', 'email_domain', 'first_name', 'last_name'];

export interface LintOptions {
  knownEventTypes?: readonly string[];
  knownAttributes?: readonly string[];
}

interface Use {
  path: string;
  value: string;
}

export function campaignWarnings(campaign: Campaign, raw: Raw, options: LintOptions = {}): CampaignError[] {
  const conditions = conditionsOf(campaign, raw);
  return [
    ...eventTypeWarnings(eventTypesOf(campaign, conditions), raw, options),
    ...attributeWarnings([...attributesOf(conditions, subjectsOf(campaign)), ...dateAttributesOf(campaign)], campaign, options),
    ...reachWarnings(campaign, raw),
    ...defaultsWarnings(raw),
    ...abWarnings(campaign),
  ];
}

/** An A/B test whose settings need more sends than any campaign has would never declare a winner. */
function abWarnings(campaign: Campaign): CampaignError[] {
  return abTestPlans(campaign)
    .filter(({ plan }) => plan.sendsPerVariantFor80PercentPower > IMPRACTICAL_SENDS_PER_VARIANT)
    .map(({ path, plan }) => ({
      path: `${path}.email`,
      message: `this A/B test will practically never declare a winner: it ${describeAbPlan(plan)}`,
      suggestion: 'a lower ab.confidence, a larger ab.min_lift, fewer variants, or metric: opens',
    }));
}

// ---- event types -------------------------------------------------------------------------

function eventTypesOf(campaign: Campaign, conditions: Use[]): Use[] {
  const uses: Use[] = [{ path: 'entry.on', value: campaign.entry.on }];
  campaign.triggers.forEach((trigger, i) => uses.push({ path: `triggers[${i}].on`, value: trigger.on }));
  campaign.scoring.behaviour.forEach((rule, i) => uses.push({ path: `scoring.behaviour[${i}].on`, value: rule.on }));
  eachStep(campaign.tracks, (step, path) => {
    if (step.kind === 'wait_for') uses.push({ path: `${path}.wait_for.event`, value: step.event });
  });
  campaign.exitOn.forEach((type, i) => uses.push({ path: `exit_on[${i}]`, value: type }));
  // count('page.viewed'), has(…), days_since(…): the type is the first argument, a literal.
  for (const { path, value } of conditions) {
    for (const match of value.matchAll(/\b(?:count|has|days_since)\(\s*(['"])([^'"]+)\1/g)) uses.push({ path, value: match[2]! });
  }
  return uses;
}

function eventTypeWarnings(uses: Use[], raw: Raw, options: LintOptions): CampaignError[] {
  const catalogue = Array.isArray(raw.events) ? (raw.events as string[]) : undefined;
  const builtIn: readonly string[] = BUILT_IN_EVENT_TYPES;
  if (catalogue) {
    const listed = new Set([...builtIn, ...catalogue]);
    return uses
      .filter(({ value }) => !listed.has(value))
      .map(({ path, value }) => warning(path, `event type "${value}" is not in the campaign's events catalogue`, closest(value, listed)));
  }
  return spellingWarnings(uses, [...builtIn, ...(options.knownEventTypes ?? [])], { unknown: (value) => `unknown event type "${value}"`, quote: (value) => value });
}

const MAX_UNKNOWN_NAMES = 200;

interface SpellingMessages {
  unknown(value: string): string;
  quote(value: string): string;
}

/**
 * Names used in the campaign checked against the known ones: near a known name, "did you mean";
 * near another name of the campaign only, one warning for the pair (which one is misspelt is
 * not ours to guess). A name far from all is taken as new (a campaign may well come before its
 * first event); an `events:` catalogue makes every other type a warning.
 */
function spellingWarnings(uses: Use[], knownNames: string[], messages: SpellingMessages): CampaignError[] {
  const known = new Set(knownNames);
  const warnings: CampaignError[] = [];
  const warned = new Set<string>();
  // Each unknown name is compared with every known and unknown one: a file with hundreds of
  // unknown names is not a matter of typos, and is left unchecked rather than take seconds.
  const unknown = new Set(uses.map((use) => use.value).filter((value) => !known.has(value)));
  if (unknown.size > MAX_UNKNOWN_NAMES) return [];
  for (const { path, value } of uses) {
    if (known.has(value) || warned.has(value)) continue;
    warned.add(value);
    const suggestion = closest(value, known);
    if (suggestion) {
      warnings.push(warning(path, messages.unknown(value), messages.quote(suggestion)));
      continue;
    }
    const twin = [...unknown].find((other) => other !== value && closest(value, [other]));
    if (twin) {
      warned.add(twin);
      const at = uses.find((use) => use.value === twin)!.path;
      warnings.push(warning(path, `${messages.unknown(value)}, close to ${messages.quote(twin)} at ${at}: one of them is probably misspelt`));
    }
  }
  return warnings;
}

// ---- lead attributes ---------------------------------------------------------------------

/** Every condition of the campaign, with its path. */
function conditionsOf(campaign: Campaign, raw: Raw): Use[] {
  const uses: Use[] = [];
  const add = (path: string, value: string | undefined) => value !== undefined && uses.push({ path, value });
  add('entry.where', campaign.entry.where);
  campaign.triggers.forEach((trigger, i) => add(`triggers[${i}].where`, trigger.where));
  campaign.scoring.fit.forEach((rule, i) => add(`scoring.fit[${i}].if`, rule.if));
  campaign.scoring.behaviour.forEach((rule, i) => add(`scoring.behaviour[${i}].where`, rule.where));
  eachStep(campaign.tracks, (step, path) => {
    if (step.kind === 'branch') add(`${path}.if`, step.if);
    if (step.kind === 'wait_for') add(`${path}.wait_for.where`, step.where);
  });
  qualifyPaths(raw.qualify).forEach((path, i) => add(path, [...(campaign.qualify?.all ?? []), ...(campaign.qualify?.any ?? [])][i]));
  campaign.handoff?.assign.rules?.forEach((rule, i) => add(`handoff.assign.rules[${i}].when`, rule.when));
  return uses;
}

function subjectsOf(campaign: Campaign): Use[] {
  const uses: Use[] = campaign.triggers.map((trigger, i) => ({ path: `triggers[${i}].subject`, value: trigger.subject }));
  eachStep(campaign.tracks, (step, path) => {
    if (step.kind === 'notify') uses.push({ path: `${path}.notify.subject`, value: step.subject });
    if (step.kind !== 'email') return;
    if (!step.variants) uses.push({ path: `${path}.email.subject`, value: step.subject });
    step.variants?.forEach((variant, i) => variant.subject && uses.push({ path: `${path}.email.variants[${i}].subject`, value: variant.subject }));
  });
  return uses;
}

function attributesOf(conditions: Use[], subjects: Use[]): Use[] {
  const uses: Use[] = [];
  // In conditions, outside string literals; in subjects, inside {{ }}.
  for (const { path, value } of conditions) {
    const code = value.replace(/'(?:\\'|[^'])*'|"(?:\\"|[^"])*"/g, '""');
    for (const match of code.matchAll(/(?<![\w.$])lead((?:\.[A-Za-z_]\w*)+)/g)) uses.push({ path, value: match[1]!.slice(1) });
  }
  for (const { path, value } of subjects) {
    for (const mustache of value.matchAll(/\{\{([^}]*)\}\}/g)) {
      for (const match of mustache[1]!.matchAll(/(?<![\w.$])lead((?:\.[A-Za-z_]\w*)+)/g)) uses.push({ path, value: match[1]!.slice(1) });
    }
  }
  return uses;
}

/** `lead.…` dates of waits and send_by deadlines. */
function dateAttributesOf(campaign: Campaign): Use[] {
  const uses: Use[] = [];
  eachStep(campaign.tracks, (step, path) => {
    if (step.kind === 'wait' && step.untilRef?.source === 'lead') uses.push({ path: `${path}.wait.until`, value: step.untilRef.path.join('.') });
    if (step.kind === 'email' && step.sendBy?.source === 'lead') uses.push({ path: `${path}.email.send_by`, value: step.sendBy.path.join('.') });
  });
  return uses;
}

function attributeWarnings(uses: Use[], campaign: Campaign, options: LintOptions): CampaignError[] {
  const assign = campaign.handoff?.assign;
  const matchAttributes = [...Object.values(assign?.match ?? {}), ...(assign?.territoryBy ? [assign.territoryBy] : [])].map((attribute) => attribute.replace(/^lead\./, ''));
  // Attributes the campaign sets or tags are known too.
  const written: string[] = [];
  eachStep(campaign.tracks, (step) => {
    if (step.kind !== 'lead') return;
    written.push(...Object.keys(step.set ?? {}));
    if (step.tag || step.untag) written.push(TAGS_ATTRIBUTE);
  });
  const known = new Set([...BUILT_IN_ATTRIBUTES, ...(options.knownAttributes ?? []), ...matchAttributes, ...written]);
  // "company" is known when "company.name" is.
  for (const attribute of [...known]) for (let i = attribute.indexOf('.'); i > 0; i = attribute.indexOf('.', i + 1)) known.add(attribute.slice(0, i));
  return spellingWarnings(uses, [...known], { unknown: (value) => `unknown lead attribute lead.${value}`, quote: (value) => `lead.${value}` });
}

// ---- scores that cannot be reached -------------------------------------------------------

/** The highest score a lead can have, or Infinity when a rule without a maximum can repeat. */
function highestScore(campaign: Campaign): number {
  const fit = campaign.scoring.fit.reduce((sum, rule) => sum + Math.max(0, rule.points), 0);
  let behaviour = 0;
  for (const rule of campaign.scoring.behaviour) {
    if (rule.points <= 0) continue;
    if (rule.max === undefined) return campaign.scoring.max ?? Infinity;
    behaviour += rule.max;
  }
  let steps = 0;
  let loops = false;
  eachStep(campaign.tracks, (step) => {
    if (step.kind === 'score' && step.points > 0) steps += step.points;
    if (step.kind === 'goto') loops = true;
  });
  // A goto may run a score step again (after a wait): no bound then.
  if (loops && steps > 0) return campaign.scoring.max ?? Infinity;
  return Math.min(fit + behaviour + steps, campaign.scoring.max ?? Infinity);
}

function reachWarnings(campaign: Campaign, raw: Raw): CampaignError[] {
  const highest = highestScore(campaign);
  if (highest === Infinity) return [];
  const warnings: CampaignError[] = [];
  for (const stage of ['warm', 'hot'] as const) {
    if (campaign.stages[stage] > highest) warnings.push(warning(`stages.${stage}`, `no lead can reach ${stage}: it needs ${campaign.stages[stage]} and the highest possible score is ${highest}`));
  }
  // score >= N among the conditions that must all hold.
  const all = campaign.qualify?.all ?? [];
  qualifyPaths(raw.qualify).slice(0, all.length).forEach((path, i) => {
    const match = /^\s*score\s*(>=|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(all[i]!);
    if (!match) return;
    const needed = Number(match[2]) + (match[1] === '>' ? Number.EPSILON : 0);
    if (needed > highest) warnings.push(warning(path, `no lead can qualify: "${all[i]}" while the highest possible score is ${highest}`));
  });
  return warnings;
}

/** The paths of the qualification's conditions, in the compiled order (all, then any). */
function qualifyPaths(value: unknown): string[] {
  if (typeof value === 'string') return ['qualify'];
  if (Array.isArray(value)) return value.map((_, i) => `qualify[${i}]`);
  if (!value || typeof value !== 'object') return [];
  const { all, any } = value as Raw;
  return [...(Array.isArray(all) ? all.map((_, i) => `qualify.all[${i}]`) : []), ...(Array.isArray(any) ? any.map((_, i) => `qualify.any[${i}]`) : [])];
}

// ---- defaults replaced or ignored --------------------------------------------------------

function defaultsWarnings(raw: Raw): CampaignError[] {
  const warnings: CampaignError[] = [];
  if (Array.isArray(raw.exit_on)) {
    const dropped = DEFAULT_EXIT_ON.filter((type) => !(raw.exit_on as unknown[]).includes(type));
    if (dropped.length) {
      const listed = (raw.exit_on as unknown[]).filter((type) => !(DEFAULT_EXIT_ON as readonly unknown[]).includes(type));
      warnings.push(warning('exit_on', `replaces the default list, so a lead who has ${dropped.join(' or ')} stays enrolled`, `exit_on: [${[...DEFAULT_EXIT_ON, ...listed].join(', ')}]`));
    }
  }
  const assign = (raw.handoff as Raw | undefined)?.assign as Raw | undefined;
  if (assign?.territory_by !== undefined && (assign.strategy ?? 'round_robin') !== 'territory') {
    warnings.push(warning('handoff.assign.territory_by', 'is ignored: the strategy is round_robin', `match: { territory: ${String(assign.territory_by)} }`));
  }
  return warnings;
}

// ---- helpers -----------------------------------------------------------------------------

function warning(path: string, message: string, suggestion?: string): CampaignError {
  return { path, message, ...(suggestion && { suggestion }) };
}
