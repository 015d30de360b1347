// Shared set-up for the API tests: a real database, the real app, and a recording fake Engine.
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApi, type ApiOptions } from '../../api/app';
import type { Engine, SalesOutcome } from '../../api/engine';
import type { LeadEvent } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';

export type EngineCall =
  | { method: 'deliverEvent'; leadId: string; event: LeadEvent }
  | { method: 'enrol'; campaignId: string; leadId: string }
  | { method: 'exitEnrolment'; workflowId: string; reason: string }
  | { method: 'enrolmentState'; workflowId: string }
  | { method: 'consentChanged'; leadId: string; purpose: string; granted: boolean }
  | { method: 'salesResponse'; handoffId: string; outcome: SalesOutcome; note?: string }
  | { method: 'campaignStatusChanged'; campaignId: string; status: string };

/** Records every call; `failNext` makes the next delivery throw, `states` answers enrolmentState. */
export class RecordingEngine implements Engine {
  calls: EngineCall[] = [];
  states = new Map<string, unknown>();
  failDeliveries = 0;

  of<M extends EngineCall['method']>(method: M): Extract<EngineCall, { method: M }>[] {
    return this.calls.filter((call) => call.method === method) as Extract<EngineCall, { method: M }>[];
  }

  async deliverEvent(leadId: string, event: LeadEvent) {
    if (this.failDeliveries > 0) {
      this.failDeliveries--;
      throw new Error('engine unreachable');
    }
    this.calls.push({ method: 'deliverEvent', leadId, event });
  }
  async enrol(campaignId: string, leadId: string) {
    this.calls.push({ method: 'enrol', campaignId, leadId });
    const workflowId = `nurture:${campaignId}:${leadId}`;
    const alreadyEnrolled = this.states.has(workflowId);
    this.states.set(workflowId, { stage: 'cold' });
    return { workflowId, alreadyEnrolled };
  }
  async exitEnrolment(workflowId: string, reason: string) {
    this.calls.push({ method: 'exitEnrolment', workflowId, reason });
  }
  async enrolmentState(workflowId: string) {
    this.calls.push({ method: 'enrolmentState', workflowId });
    return this.states.get(workflowId);
  }
  async consentChanged(leadId: string, purpose: string, granted: boolean) {
    this.calls.push({ method: 'consentChanged', leadId, purpose, granted });
  }
  async salesResponse(handoffId: string, outcome: SalesOutcome, note?: string) {
    this.calls.push({ method: 'salesResponse', handoffId, outcome, note });
  }
  async campaignStatusChanged(campaignId: string, status: 'active' | 'paused' | 'archived') {
    this.calls.push({ method: 'campaignStatusChanged', campaignId, status });
  }
}

type InjectResponse = Awaited<ReturnType<FastifyInstance['inject']>>;

export const LINKS = { baseUrl: 'https://nurture.test', secret: 'test-link-secret' };

export interface TestApi {
  db: TestDatabase;
  app: FastifyInstance;
  engine: RecordingEngine;
  /** Keys with both scopes, and with read only. */
  writeKey: string;
  readKey: string;
  /** `app.inject` with the write key unless headers say otherwise. */
  call(options: InjectOptions & { key?: string | null }): Promise<InjectResponse>;
  close(): Promise<void>;
}

export async function startTestApi(options: Partial<ApiOptions> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const engine = new RecordingEngine();
  const app = await buildApi({ pool: db.pool, engine, links: LINKS, rateLimit: false, ...options });
  await app.ready();
  const writeKey = (await createApiKey(db.pool, 'tests (write)', ['read', 'write'])).key;
  const readKey = (await createApiKey(db.pool, 'tests (read)', ['read'])).key;
  return {
    db,
    app,
    engine,
    writeKey,
    readKey,
    call: ({ key, headers, ...rest }) => {
      const authorization = key === null ? {} : { authorization: `Bearer ${key ?? writeKey}` };
      return app.inject({ ...rest, headers: { ...authorization, ...headers } } as InjectOptions) as Promise<InjectResponse>;
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Row counts of the tables a request might change: equal before and after means nothing changed. */
export async function tableCounts(db: TestDatabase): Promise<Record<string, number>> {
  const tables = ['leads', 'events', 'consent_records', 'suppressions', 'email_engagements', 'campaigns', 'campaign_versions', 'handoffs'];
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  return counts;
}
