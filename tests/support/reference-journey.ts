// The reference journey of seed 004 (campaigns/saas-whitepaper-nurture.yaml) as a script that
// runs on any engine that can be driven: the real one on Temporal (tests/e2e/journey.test.ts) and
// the pure interpreter alone, from many start instants (tests/campaign/clock-independence.test.ts).
// The script moves the clock itself — to the canonical start, then by fixed steps or to the send
// time the campaign's calendar gives — so what the lead and sales receive, and in which order,
// is the same whenever the suite runs.
import { nextWindowOpening, type Campaign, type EmailKind, type SalesOutcome, type Stage } from '../../campaign';
import { DAY, HOUR } from './campaigns';
import { canonicalStart } from './scenario-clock';

/** The lead who walks the journey: a manager at a 250-person company in Kanto (fit 35). */
export const JOURNEY_LEAD = {
  email: 'aiko.suzuki@globex.example',
  timezone: 'Asia/Tokyo',
  attributes: { first_name: 'Aiko', last_name: 'Suzuki', company: { name: 'Globex', employees: 250 }, role: 'manager', region: 'kanto' },
};

export interface JourneyState {
  stage: Stage;
  score: number;
  exitReason: string | null;
  /** When a lead sales found not ready goes back to nurture. */
  recycleAt: number | null;
}

/** What the journey needs of an engine, for its one lead. */
export interface JourneyEngine {
  now(): Promise<number>;
  /** Lets the clock run to `at` (nothing when it is there already). */
  advanceTo(at: number): Promise<void>;
  event(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Answers the lead's open handoff as its rep would. */
  answer(outcome: SalesOutcome, note?: string): Promise<void>;
  state(): Promise<JourneyState>;
  /** The templates of the marketing emails the lead was sent, in order, once there are `count` (or after a while). */
  leadEmails(count: number): Promise<string[]>;
  /** The kinds of the sales emails about the lead, in order, once there are `count` (or after a while). */
  salesEmails(count: number): Promise<EmailKind[]>;
  /** Returns once nothing is in flight. */
  settle(): Promise<void>;
}

/** The journey's phases, in order; each returns what it observed. */
export function referenceJourney(campaign: Campaign, engine: JourneyEngine) {
  const zone = JOURNEY_LEAD.timezone;
  const later = async (ms: number) => engine.advanceTo((await engine.now()) + ms);
  const observe = async (emails: number, sales: number) => {
    await engine.settle();
    return { emails: await engine.leadEmails(emails), sales: await engine.salesEmails(sales), ...(await engine.state()) };
  };

  return {
    /** To the canonical start: a Tuesday 10:00 in Tokyo with no holiday in the week. */
    async start(): Promise<number> {
      const at = canonicalStart(campaign.sendWindow, zone, await engine.now());
      await engine.advanceTo(at);
      return at;
    },

    /** The whitepaper download enrols her, cold; the welcome email goes at once. */
    async download() {
      await engine.event('asset.downloaded', { asset: 'whitepaper' });
      return observe(1, 0);
    },

    /** Two hours later she opens and clicks it: warm, and the warm track's first email. */
    async engage() {
      await later(2 * HOUR);
      await engine.event('email.opened', { template: 'welcome' });
      await engine.event('email.clicked', { template: 'welcome', url: 'https://acme.example/guide' });
      return observe(2, 0);
    },

    /** An hour later, two pricing-page views: the demo invitation, hot, qualified, handed to sales. */
    async viewPricing() {
      await later(HOUR);
      await engine.event('page.viewed', { page: 'pricing', path: '/pricing' });
      await engine.event('page.viewed', { page: 'pricing', path: '/pricing' });
      return observe(3, 1);
    },

    /** Sales answer "not ready": nothing during the cooldown, then the warm track again at its first send time. */
    async notReady() {
      await engine.answer('not_ready', 'Budget next quarter');
      await engine.settle();
      const { recycleAt } = await engine.state();
      if (recycleAt === null) throw new Error('the lead is not waiting to be recycled');
      await engine.advanceTo(recycleAt - HOUR);
      await engine.settle();
      const duringCooldown = await engine.leadEmails(3);
      await engine.advanceTo(nextWindowOpening(campaign.sendWindow, zone, recycleAt) + 10 * 60_000);
      return { duringCooldown, ...(await observe(4, 1)) };
    },

    /** Back on the pricing page twice and at a webinar: qualified again, a second handoff. */
    async qualifyAgain() {
      await engine.event('page.viewed', { page: 'pricing' });
      await engine.event('page.viewed', { page: 'pricing' });
      await engine.event('webinar.attended', { webinar: 'metrics-culture' });
      return observe(6, 2);
    },

    /** Accepted: no more marketing (the manager hears when the outcome is late); converted: the enrolment ends. */
    async acceptAndConvert() {
      await engine.answer('accepted');
      await engine.settle();
      await later(20 * DAY);
      await engine.settle();
      const afterAccepting = await observe(6, 3);
      await engine.answer('converted');
      await engine.settle();
      return { afterAccepting, ...(await observe(6, 3)) };
    },
  };
}

const WELCOME = 'welcome';
/** What the journey observes, phase by phase, on any engine and from any start. */
export const JOURNEY_OUTCOME = {
  download: { emails: [WELCOME], sales: [], stage: 'cold', score: 45, exitReason: null, recycleAt: null },
  engage: { emails: [WELCOME, 'case-study'], sales: [], stage: 'warm', exitReason: null, recycleAt: null },
  viewPricing: { emails: [WELCOME, 'case-study', 'demo-invite'], sales: ['sales_notice'], stage: 'hot', exitReason: null, recycleAt: null },
  notReady: {
    duringCooldown: [WELCOME, 'case-study', 'demo-invite'],
    emails: [WELCOME, 'case-study', 'demo-invite', 'case-study'],
    sales: ['sales_notice'],
    stage: 'warm',
    score: 50,
    exitReason: null,
    recycleAt: null,
  },
  qualifyAgain: {
    emails: [WELCOME, 'case-study', 'demo-invite', 'case-study', 'demo-invite', 'demo-invite'],
    sales: ['sales_notice', 'sales_notice'],
    stage: 'hot',
    exitReason: null,
  },
  acceptAndConvert: {
    afterAccepting: { emails: [WELCOME, 'case-study', 'demo-invite', 'case-study', 'demo-invite', 'demo-invite'], sales: ['sales_notice', 'sales_notice', 'sales_escalation'], exitReason: null },
    emails: [WELCOME, 'case-study', 'demo-invite', 'case-study', 'demo-invite', 'demo-invite'],
    sales: ['sales_notice', 'sales_notice', 'sales_escalation'],
    exitReason: 'converted',
  },
};
