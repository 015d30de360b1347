// A segment launch on the real engine (Temporal's dev server, the worker runtime with its
// dispatcher, the mailer, the SMTP sink), started through the API and carried out by a launcher
// in a process of its own that is SIGKILLed mid-launch; another launcher resumes it. Every lead
// that matches, consents and is not suppressed is enrolled once and gets one welcome email; none
// twice, none of the others. NURTURE_LAUNCH_LEADS sets the size (default 1,000; the issue's
// acceptance run uses 10,000).
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { buildApi } from '../../api/app';
import { WELCOME_CAMPAIGN } from '../../bench/support/campaigns';
import { killProcess, startTsxProcess } from '../../bench/support/child-process';
import { createApiKey } from '../../db/api-keys';
import { startLauncher, type Launcher } from '../../worker/launcher';
import { startHarness, TEST_CONFIG, type Harness } from './harness';

const LEADS = Number(process.env.NURTURE_LAUNCH_LEADS ?? 1000);
const LEASE_MS = 1500;
const launcherScript = fileURLToPath(new URL('../reliability/launcher-process.ts', import.meta.url));

// One welcome email at once, any day and hour, so that it goes whenever the suite runs.
const campaign = WELCOME_CAMPAIGN;

let h: Harness;
let api: FastifyInstance;
let key: string;
let resumed: Launcher | undefined;

beforeAll(async () => {
  // The worker runtime carries out no launch itself here: the launchers are this test's.
  h = await startHarness({ devServerArgs: [], runtime: { launcher: false } });
  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: TEST_CONFIG.publicUrl, secret: TEST_CONFIG.linkSecret }, rateLimit: false });
  key = (await createApiKey(h.db.pool, 'launch test', ['read', 'write'])).key;
  await h.launch(campaign);
}, 180_000);

afterAll(async () => {
  await resumed?.stop();
  await api?.close();
  await h?.close();
});

const startLauncherProcess = async () => (await startTsxProcess(launcherScript, [h.db.url, String(LEASE_MS)], /launcher ready/)).child;

const call = (method: 'GET' | 'POST', url: string, payload?: object) => api.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

it(`launches to a segment of ${LEADS} leads through a launcher killed mid-way: each qualifying lead enrolled and mailed once`, async () => {
  // Three in four are managers; one in ten has no consent, one in fifty a suppressed address.
  await h.db.pool.query(
    `WITH made AS (
       INSERT INTO leads (email, email_hash, attributes, timezone)
       SELECT 'launch' || i || '@example.com', encode(sha256(convert_to('launch' || i || '@example.com', 'UTF8')), 'hex'),
              jsonb_build_object('first_name', 'L' || i, 'role', CASE WHEN i % 4 = 3 THEN 'engineer' ELSE 'manager' END, 'n', i),
              'Asia/Tokyo'
       FROM generate_series(0, $1 - 1) AS i
       RETURNING id, email_hash, (attributes ->> 'n')::int AS n
     ), consented AS (
       INSERT INTO consent_records (lead_id, purpose, granted, source) SELECT id, 'marketing_email', true, 'test' FROM made WHERE n % 10 <> 0
     )
     INSERT INTO suppressions (email_hash, reason) SELECT email_hash, 'manual' FROM made WHERE n % 50 = 1`,
    [LEADS],
  );
  const qualifies = (n: number) => n % 4 !== 3 && n % 10 !== 0 && n % 50 !== 1;
  const expected = Array.from({ length: LEADS }, (_, n) => n).filter(qualifies);
  // One qualifying lead is in the campaign already: the launch must not enrol it again.
  const { rows: early } = await h.db.pool.query<{ id: string }>(`SELECT id FROM leads WHERE email = $1`, [`launch${expected[0]}@example.com`]);
  await h.engine.enrol(campaign.id, early[0]!.id);

  // About ten seconds of queueing (pages of a second's worth), so that the kill lands mid-launch.
  const started = await call('POST', `/v1/campaigns/${campaign.id}/launches`, { segment: "lead.role == 'manager'", per_minute: LEADS * 6 });
  expect(started.statusCode).toBe(202);
  const launchId = started.json().id;
  expect(started.json()).toMatchObject({ total: LEADS, status: 'running', scanned: 0 });
  const progress = async () => (await call('GET', `/v1/campaigns/${campaign.id}/launches/${launchId}`)).json();

  const first = await startLauncherProcess();
  await vi.waitFor(async () => expect((await progress()).scanned).toBeGreaterThanOrEqual(LEADS * 0.3), { timeout: 60_000, interval: 50 });
  await killProcess(first);
  const atKill = await progress();
  expect(atKill.scanned).toBeLessThan(LEADS);
  expect(atKill.status).toBe('running');

  // Another launcher takes the launch over once the killed one's lease has run out.
  resumed = startLauncher({ pool: h.db.pool, leaseMs: LEASE_MS, pollMs: 100 });
  await vi.waitFor(async () => expect((await progress()).complete).toBe(true), { timeout: 600_000, interval: 500 });
  const done = await progress();
  console.log(`[launch] ${LEADS} leads: killed at ${atKill.scanned} scanned; ${JSON.stringify(done)}`);
  expect(done).toMatchObject({
    status: 'done',
    scanned: LEADS,
    queued: expected.length,
    skipped: {
      not_matching: Array.from({ length: LEADS }, (_, n) => n).filter((n) => n % 4 === 3).length,
      no_consent: Array.from({ length: LEADS }, (_, n) => n).filter((n) => n % 4 !== 3 && n % 50 !== 1 && n % 10 === 0).length,
      suppressed: Array.from({ length: LEADS }, (_, n) => n).filter((n) => n % 4 !== 3 && n % 50 === 1).length,
    },
    enrolled: expected.length - 1,
    not_entered: { already_enrolled: 1 },
  });

  // Exactly the qualifying leads are enrolled, each once, and each gets its welcome email once.
  const { rows: enrolled } = await h.db.pool.query<{ n: number; enrolments: number }>(
    `SELECT (l.attributes ->> 'n')::int AS n, count(*)::int AS enrolments FROM enrolments e JOIN leads l ON l.id = e.lead_id
     WHERE e.campaign_id = $1 GROUP BY l.id ORDER BY 1`,
    [campaign.id],
  );
  expect(enrolled.map((row) => row.n)).toEqual(expected);
  expect(enrolled.filter((row) => row.enrolments !== 1)).toEqual([]);
  const { rows: queued } = await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'campaign.launched'`);
  expect(queued[0]!.n).toBe(expected.length);
  await h.sink.waitFor((messages) => messages.length >= expected.length, 600_000);
  await h.settle();
  const recipients = h.sink.messages.map((message) => message.to[0]!);
  expect(new Set(recipients).size).toBe(recipients.length);
  expect(recipients.sort()).toEqual(expected.map((n) => `launch${n}@example.com`).sort());
}, 900_000);
