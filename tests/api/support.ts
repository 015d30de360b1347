// Shared set-up for the API tests: a real database, the real app, and a recording fake Engine.
import type { FanOut } from '../../db/fanouts';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApi, type ApiOptions } from '../../api/app';
import type { Engine } from '../../api/engine';
import type { SalesOutcome } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';

export type EngineCall =
  | { method: 'enrol'; campaignId: string; leadId: string }
  | { method: 'exitEnrolment'; workflowId: string; reason: string }
  | { method: 'terminateEnrolment'; workflowId: string; reason: string }
  | { method: 'enrolmentState'; workflowId: string }
  | { method: 'consentChanged'; leadId: string; purpose: string; granted: boolean }
  | { method: 'salesResponse'; handoffId: string; outcome: SalesOutcome; note?: string; recycleAt?: Date }
  | { method: 'campaignStatusChanged'; campaignId: string; status: string; statusSeq: number }
  | { method: 'migrateCampaign'; campaignId: string; toVersion: number; fromVersion?: number }
  | { method: 'migrateEnrolment'; workflowId: string; version?: number };

/** Records every call; `states` answers enrolmentState. */
export class RecordingEngine implements Engine {
  calls: EngineCall[] = [];
  states = new Map<string, unknown>();

  of<M extends EngineCall['method']>(method: M): Extract<EngineCall, { method: M }>[] {
    return this.calls.filter((call) => call.method === method) as Extract<EngineCall, { method: M }>[];
  }

  async enrol(campaignId: string, leadId: string) {
    this.calls.push({ method: 'enrol', campaignId, leadId });
    const workflowId = `nurture:${campaignId}:${leadId}`;
    const alreadyEnrolled = this.states.has(workflowId);
    this.states.set(workflowId, { stage: 'cold' });
    return { workflowId, alreadyEnrolled };
  }
  async terminateEnrolment(workflowId: string, reason: string) {
    this.calls.push({ method: 'terminateEnrolment', workflowId, reason });
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
  async salesResponse(handoffId: string, outcome: SalesOutcome, note?: string, recycleAt?: Date) {
    this.calls.push({ method: 'salesResponse', handoffId, outcome, note, ...(recycleAt && { recycleAt }) });
  }
  async campaignStatusChanged(campaignId: string, status: 'active' | 'paused' | 'archived', statusSeq: number) {
    this.calls.push({ method: 'campaignStatusChanged', campaignId, status, statusSeq });
    return this.fanOut(campaignId, status === 'paused' ? 'pause' : status === 'active' ? 'resume' : 'archive');
  }
  async migrateCampaign(campaignId: string, toVersion: number, fromVersion?: number) {
    this.calls.push({ method: 'migrateCampaign', campaignId, toVersion, fromVersion });
    return this.fanOut(campaignId, 'migrate', toVersion);
  }
  private fanOut(campaignId: string, action: FanOut['action'], toVersion?: number): FanOut {
    const at = new Date();
    return { id: 1, campaignId, action, statusSeq: null, toVersion: toVersion ?? null, fromVersion: null, total: 0, done: 0, skipped: 0, cursor: 0, createdAt: at, finishedAt: at };
  }
  async migrateEnrolment(workflowId: string, version?: number) {
    this.calls.push({ method: 'migrateEnrolment', workflowId, version });
    return { campaignVersion: version ?? 1 };
  }
}

type InjectResponse = Awaited<ReturnType<FastifyInstance['inject']>>;

export const LINKS = { baseUrl: 'https://nurture.test', secret: 'test-link-secret-of-at-least-32-characters' };

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

/** A campaign row with one version, an enrolment of the lead in it, optionally a handoff. */
export async function seedEnrolment(db: TestDatabase, leadId: string, campaignId = 'seed-campaign', stage = 'cold') {
  await db.pool.query(
    `INSERT INTO campaigns (id, name, status, current_version) VALUES ($1, $1, 'active', 1) ON CONFLICT (id) DO NOTHING`,
    [campaignId],
  );
  await db.pool.query(
    `INSERT INTO campaign_versions (campaign_id, version, content_hash, definition) VALUES ($1, 1, 'h', '{}') ON CONFLICT DO NOTHING`,
    [campaignId],
  );
  const workflowId = `nurture:${campaignId}:${leadId}`;
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id, stage, score) VALUES ($1, $2, 1, $3, $4, 42) RETURNING id`,
    [workflowId, campaignId, leadId, stage],
  );
  return { enrolmentId: rows[0]!.id, workflowId, campaignId };
}

let sendCounter = 0;

/** A sent email to the lead, as the mailer leaves it. */
export async function seedSend(
  db: TestDatabase,
  options: { leadId: string; to: string; sentAt?: Date; campaignId?: string; enrolmentId?: number; stepPath?: string; variant?: string; abTest?: string; consentPurpose?: string | null },
) {
  const { messageKey } = await import('../../mail/identity');
  const idempotencyKey = `send-${process.pid}-${++sendCounter}-${Math.random()}`;
  const key = messageKey(idempotencyKey);
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO email_sends (idempotency_key, message_id, message_key, kind, enrolment_id, campaign_id, campaign_version, lead_id,
                              step_path, template, ab_test, variant, to_address, consent_purpose, subject, status, sent_at)
     VALUES ($1, $2, $3, 'step', $4, $5, 1, $6, $7, 'welcome', $8, $9, $10, $11, 'Hello', 'sent', $12) RETURNING id`,
    [
      idempotencyKey,
      `<${key}@nurture.test>`,
      key,
      options.enrolmentId ?? null,
      options.campaignId ?? null,
      options.leadId,
      options.stepPath ?? 'tracks.cold[0]',
      options.abTest ?? null,
      options.variant ?? null,
      options.to,
      options.consentPurpose === undefined ? 'marketing_email' : options.consentPurpose,
      options.sentAt ?? new Date(Date.now() - 3600_000),
    ],
  );
  return { sendId: rows[0]!.id, idempotencyKey, messageKey: key };
}

export async function seedHandoff(db: TestDatabase, enrolmentId: number, leadId: string, campaignId: string, id = `handoff-${Math.random()}`) {
  await db.pool.query(
    `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, score, reasons, breakdown, first_contact_due)
     VALUES ($1, $2, $3, $4, 80, '["score >= 70"]', '{"fit": 35}', now() + interval '3 days')`,
    [id, enrolmentId, leadId, campaignId],
  );
  return id;
}

export async function createLead(api: TestApi, email: string, attributes: Record<string, unknown> = {}): Promise<string> {
  const response = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email, attributes } });
  if (response.statusCode >= 300) throw new Error(`creating ${email} failed: ${response.body}`);
  return response.json().lead.id;
}
