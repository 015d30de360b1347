// The synthetic audience the simulator draws leads from: attributes, consent, how people react
// to email, what they do on their own each day and how sales answers a handoff. A profile file
// (JSON) overrides the documented defaults section by section and is checked like a campaign:
// every problem names its path.
import { isValidTimeZone } from './calendar';
import type { SalesOutcome } from './sales-answers';
import type { CampaignError, Stage } from './types';

export interface Weighted<T> {
  values: T[];
  weights: number[];
}

export interface SimulationProfile {
  /** The event that enrols a lead, with its data (it must satisfy the campaign's entry rule). */
  entry: { type?: string; data: Record<string, unknown> };
  attributes: {
    employees: Weighted<number>;
    role: Weighted<string>;
    region: Weighted<string>;
    /** IANA zones; a lead's send window is read in its zone. */
    timezone: Weighted<string>;
    /** Share of leads with decision authority. */
    authority: number;
    timelineMonths: Weighted<number>;
    /** The campaign's own attributes, each drawn from its distribution (`industry`, `plan`, a boolean …). */
    custom: Record<string, Weighted<string | number | boolean>>;
  };
  /** Share of leads who consented to marketing email. */
  consentRate: number;
  email: {
    openRate: number;
    /** Of those who open. */
    clickRate: number;
    /** Of each email received. */
    unsubscribeRate: number;
    /** Opens happen within this many hours of the send. */
    openWithinHours: number;
    /** Multiplies the open rate of an A/B variant, by key (to see a test decide). */
    variantLift: Record<string, number>;
    /** Of each email sent: opened at once by a privacy proxy (Apple Mail Privacy Protection), a machine open. */
    machineOpenRate: number;
    /** Of each email sent: a hard bounce (the address is suppressed; the enrolment ends when exit_on lists bounced). */
    bounceRate: number;
  };
  /**
   * Behaviour tied to a moment: after an email of a template is sent (`afterEmail`: the pricing
   * page within 48 h of the pricing email), or on a day counted from enrolment (`day`: a webinar
   * on day 10). Each happens with its chance, once per email or once per lead.
   */
  dated: { type: string; data: Record<string, unknown>; chance: number; afterEmail?: string; withinHours?: number; day?: number }[];
  /** Chance per day of each behaviour, by the lead's current stage (at most one behaviour a day). */
  daily: { type: string; data: Record<string, unknown>; chance: Record<Stage, number> }[];
  sales: {
    /** Outcome shares of a sales answer. */
    outcomes: Weighted<Exclude<SalesOutcome, 'converted'>>;
    respondWithinHours: number;
    /** Of accepted leads, the share that convert (the rest are disqualified later). */
    convertRate: number;
  };
}

/** The documented default profile: a B2B SaaS audience, mostly in Japan. */
export const DEFAULT_PROFILE: SimulationProfile = {
  entry: { type: undefined, data: { asset: 'whitepaper' } },
  attributes: {
    employees: { values: [10, 50, 150, 600, 3000], weights: [25, 30, 25, 15, 5] },
    role: { values: ['engineer', 'analyst', 'manager', 'director', 'vp', 'c_level'], weights: [30, 20, 25, 12, 8, 5] },
    region: { values: ['kanto', 'kansai', 'chubu', 'kyushu'], weights: [50, 25, 15, 10] },
    timezone: { values: ['Asia/Tokyo', 'America/New_York', 'Europe/London'], weights: [85, 10, 5] },
    authority: 0.35,
    timelineMonths: { values: [1, 3, 6, 12], weights: [10, 20, 30, 40] },
    custom: {},
  },
  consentRate: 0.92,
  email: { openRate: 0.32, clickRate: 0.22, unsubscribeRate: 0.004, openWithinHours: 36, variantLift: {}, machineOpenRate: 0.25, bounceRate: 0.005 },
  dated: [],
  daily: [
    { type: 'page.viewed', data: { page: 'pricing', section: 'product' }, chance: { cold: 0.004, warm: 0.03, hot: 0.06 } },
    { type: 'page.viewed', data: { page: 'features', section: 'product' }, chance: { cold: 0.01, warm: 0.04, hot: 0.05 } },
    { type: 'asset.downloaded', data: { asset: 'product-brochure' }, chance: { cold: 0.002, warm: 0.01, hot: 0.02 } },
    { type: 'webinar.attended', data: { webinar: 'monthly' }, chance: { cold: 0.001, warm: 0.008, hot: 0.01 } },
  ],
  sales: { outcomes: { values: ['accepted', 'not_ready', 'disqualified'], weights: [55, 35, 10] }, respondWithinHours: 30, convertRate: 0.3 },
};

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

class ProfileChecker {
  readonly errors: CampaignError[] = [];

  fail(path: string, message: string) {
    this.errors.push({ path, message });
  }

  section(path: string, value: unknown, allowed: string[]): Raw {
    if (value === undefined) return {};
    if (!isObject(value)) {
      this.fail(path, 'expected an object');
      return {};
    }
    for (const key of Object.keys(value)) if (!allowed.includes(key)) this.fail(`${path}.${key}`, `unknown field; expected one of ${allowed.join(', ')}`);
    return value;
  }

  number(path: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(path, `expected a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  weighted<T>(path: string, value: unknown, fallback: Weighted<T>, valid: (item: unknown) => boolean, what: string): Weighted<T> {
    if (value === undefined) return fallback;
    if (!isObject(value) || !Array.isArray(value.values) || !Array.isArray(value.weights)) {
      this.fail(path, 'expected { values: [...], weights: [...] }');
      return fallback;
    }
    const { values, weights } = value as { values: unknown[]; weights: unknown[] };
    const before = this.errors.length;
    if (values.length === 0 || values.length !== weights.length) this.fail(path, 'values and weights must be non-empty lists of the same length');
    values.forEach((item, i) => valid(item) || this.fail(`${path}.values[${i}]`, `expected ${what}, got ${JSON.stringify(item)}`));
    weights.forEach((w, i) => (typeof w === 'number' && Number.isFinite(w) && w >= 0) || this.fail(`${path}.weights[${i}]`, 'expected a weight ≥ 0'));
    if (this.errors.length === before && (weights as number[]).every((w) => w === 0)) this.fail(`${path}.weights`, 'at least one weight must be above 0');
    return this.errors.length === before ? { values: values as T[], weights: weights as number[] } : fallback;
  }
}

const RATE = [0, 1] as const;
const OUTCOMES = ['accepted', 'not_ready', 'disqualified'];

/** A profile file's content (already parsed JSON) merged onto the defaults, or every problem in it. */
export function parseProfile(input: unknown): { ok: true; profile: SimulationProfile } | { ok: false; errors: CampaignError[] } {
  const check = new ProfileChecker();
  const d = DEFAULT_PROFILE;
  const raw = check.section('(profile)', input, ['entry', 'attributes', 'consentRate', 'email', 'dated', 'daily', 'sales']);

  const entry = check.section('entry', raw.entry, ['type', 'data']);
  if (entry.type !== undefined && typeof entry.type !== 'string') check.fail('entry.type', 'expected an event type');
  if (entry.data !== undefined && !isObject(entry.data)) check.fail('entry.data', 'expected an object');

  const a = check.section('attributes', raw.attributes, Object.keys(d.attributes));
  const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const isText = (v: unknown) => typeof v === 'string' && v !== '';
  const attributes: SimulationProfile['attributes'] = {
    employees: check.weighted('attributes.employees', a.employees, d.attributes.employees, isNumber, 'a number'),
    role: check.weighted('attributes.role', a.role, d.attributes.role, isText, 'a role'),
    region: check.weighted('attributes.region', a.region, d.attributes.region, isText, 'a region'),
    timezone: check.weighted('attributes.timezone', a.timezone, d.attributes.timezone, (v) => typeof v === 'string' && isValidTimeZone(v), 'an IANA time zone like Asia/Tokyo'),
    authority: check.number('attributes.authority', a.authority, d.attributes.authority, ...RATE),
    timelineMonths: check.weighted('attributes.timelineMonths', a.timelineMonths, d.attributes.timelineMonths, isNumber, 'a number'),
    custom: {},
  };
  const custom = check.section('attributes.custom', a.custom, Object.keys(isObject(a.custom) ? a.custom : {}));
  for (const [name, distribution] of Object.entries(custom)) {
    if (!/^[A-Za-z_]\w*$/.test(name)) check.fail(`attributes.custom.${name}`, 'expected an attribute name of letters, digits and _');
    else attributes.custom[name] = check.weighted(`attributes.custom.${name}`, distribution, { values: [], weights: [] }, (v) => isNumber(v) || isText(v) || typeof v === 'boolean', 'text, a number, true or false');
  }

  const e = check.section('email', raw.email, Object.keys(d.email));
  const variantLift = e.variantLift === undefined ? d.email.variantLift : e.variantLift;
  if (!isObject(variantLift) || Object.entries(variantLift).some(([, lift]) => typeof lift !== 'number' || !(lift >= 0))) {
    check.fail('email.variantLift', 'expected an object of variant key → multiplier ≥ 0, like { "B": 1.2 }');
  }
  const email: SimulationProfile['email'] = {
    openRate: check.number('email.openRate', e.openRate, d.email.openRate, ...RATE),
    clickRate: check.number('email.clickRate', e.clickRate, d.email.clickRate, ...RATE),
    unsubscribeRate: check.number('email.unsubscribeRate', e.unsubscribeRate, d.email.unsubscribeRate, ...RATE),
    openWithinHours: check.number('email.openWithinHours', e.openWithinHours, d.email.openWithinHours, 0, 24 * 365),
    machineOpenRate: check.number('email.machineOpenRate', e.machineOpenRate, d.email.machineOpenRate, ...RATE),
    bounceRate: check.number('email.bounceRate', e.bounceRate, d.email.bounceRate, ...RATE),
    variantLift: variantLift as Record<string, number>,
  };

  let daily = d.daily;
  if (raw.daily !== undefined) {
    if (!Array.isArray(raw.daily)) check.fail('daily', 'expected a list of { type, data, chance: { cold, warm, hot } }');
    else {
      daily = raw.daily.map((item, i) => {
        const path = `daily[${i}]`;
        const b = check.section(path, item, ['type', 'data', 'chance']);
        if (!isText(b.type)) check.fail(`${path}.type`, 'expected an event type like page.viewed');
        if (b.data !== undefined && !isObject(b.data)) check.fail(`${path}.data`, 'expected an object');
        const c = check.section(`${path}.chance`, b.chance ?? {}, ['cold', 'warm', 'hot']);
        const chance = {
          cold: check.number(`${path}.chance.cold`, c.cold, 0, ...RATE),
          warm: check.number(`${path}.chance.warm`, c.warm, 0, ...RATE),
          hot: check.number(`${path}.chance.hot`, c.hot, 0, ...RATE),
        };
        return { type: String(b.type), data: isObject(b.data) ? b.data : {}, chance };
      });
      for (const stage of ['cold', 'warm', 'hot'] as const) {
        if (daily.reduce((sum, b) => sum + b.chance[stage], 0) > 1) check.fail('daily', `the ${stage} chances add up to more than 1 (one behaviour a day at most)`);
      }
    }
  }

  let dated = d.dated;
  if (raw.dated !== undefined) {
    if (!Array.isArray(raw.dated)) check.fail('dated', 'expected a list of { type, data, chance, afterEmail and withinHours, or day }');
    else {
      dated = raw.dated.map((item, i) => {
        const path = `dated[${i}]`;
        const b = check.section(path, item, ['type', 'data', 'chance', 'afterEmail', 'withinHours', 'day']);
        if (!isText(b.type)) check.fail(`${path}.type`, 'expected an event type like page.viewed');
        if (b.data !== undefined && !isObject(b.data)) check.fail(`${path}.data`, 'expected an object');
        const chance = check.number(`${path}.chance`, b.chance, 1, ...RATE);
        if ((b.afterEmail === undefined) === (b.day === undefined)) check.fail(path, 'expected afterEmail (a template) or day (after enrolment), one of them');
        if (b.afterEmail !== undefined && !isText(b.afterEmail)) check.fail(`${path}.afterEmail`, 'expected a template name');
        const moment =
          b.afterEmail !== undefined
            ? { afterEmail: String(b.afterEmail), withinHours: check.number(`${path}.withinHours`, b.withinHours, 24, 0, 24 * 365) }
            : { day: check.number(`${path}.day`, b.day, 0, 0, 3650) };
        return { type: String(b.type), data: isObject(b.data) ? b.data : {}, chance, ...moment };
      });
    }
  }

  const s = check.section('sales', raw.sales, Object.keys(d.sales));
  const sales: SimulationProfile['sales'] = {
    outcomes: check.weighted('sales.outcomes', s.outcomes, d.sales.outcomes, (v) => OUTCOMES.includes(v as string), OUTCOMES.join(', ')),
    respondWithinHours: check.number('sales.respondWithinHours', s.respondWithinHours, d.sales.respondWithinHours, 0, 24 * 365),
    convertRate: check.number('sales.convertRate', s.convertRate, d.sales.convertRate, ...RATE),
  };

  const consentRate = check.number('consentRate', raw.consentRate, d.consentRate, ...RATE);
  if (check.errors.length) return { ok: false, errors: check.errors };
  return {
    ok: true,
    profile: {
      entry: { type: (entry.type as string | undefined) ?? d.entry.type, data: (entry.data as Raw | undefined) ?? d.entry.data },
      attributes,
      consentRate,
      email,
      dated,
      daily,
      sales,
    },
  };
}
