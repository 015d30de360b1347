// What the sales desk costs per handoff, on embedded PostgreSQL with the real activities and
// templates: opening a handoff the desk keeps — routing by availability-aware weighted round
// robin under the pool's lock (a team of 20 reps, some away, some full), the deadline on the
// pool's calendar, the notice rendered and queued in the same transaction — against the work an
// enrolment before the desk did for the same handoff (the round-robin cursor, then the notice
// queued by a second activity), at the same concurrency, measured in the same run. Then one desk
// round over every handoff falling due for its reminder.
//
//   npx tsx bench/sales-desk.ts [--handoffs 1000] [--concurrency 16]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { createHandoffActivities, type OpenHandoffRequest } from '../activities/handoff';
import { createSalesDesk } from '../activities/sales-desk';
import { createSendActivities } from '../activities/send';
import { parseCampaign, type HandoffConfig } from '../campaign';
import { adoptAddressKey, useAddressKey } from '../db/addresses';
import { saveCampaignVersion } from '../db/campaigns';
import { recordEnrolment } from '../db/enrolments';
import { upsertLead } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { addAbsence, upsertSalesPool, upsertSalesRep } from '../db/sales-team';
import { startEmbeddedPostgres } from '../devserver/postgres';
import { Links } from '../mail/links';
import { TemplateLibrary } from '../mail/renderer';
import { BENCH_CONFIG } from './support/stack';

const HOUR = 3_600_000;
const REPS = 20;
const SLA: HandoffConfig['sla'] = { firstContactBusinessMs: 8 * HOUR, firstContact: { business: true, days: 1, hours: 0 }, remindBeforeMs: 2 * HOUR, escalateTo: 'manager' };
const CAMPAIGN = `
id: bench-desk
name: Bench
from: { email: hello@acme.example }
entry: { on: form.submitted }
consent: marketing_email
scoring: { behaviour: [ { on: demo.requested, points: 100 } ] }
stages: { warm: 30, hot: 60 }
tracks: { cold: [ { wait: 30d } ], warm: [ { wait: 30d } ], hot: [ { wait: 30d } ] }
`;

/** Runs `work` over `items`, `concurrency` at a time; each item's duration in ms. */
async function timed<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<{ seconds: number; ms: number[] }> {
  const ms: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t = performance.now();
        await work(item);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, ms };
}

async function requests(pool: Pool, prefix: string, count: number, at: number, desk: boolean): Promise<OpenHandoffRequest[]> {
  const out: OpenHandoffRequest[] = [];
  for (let i = 0; i < count; i++) {
    const { lead } = await upsertLead(pool, { email: `${prefix}${i}@lead.example`, attributes: { first_name: `Lead${i}`, company: { name: `Company ${i}` }, role: 'cto' } });
    const workflowId = `nurture:bench-desk:${lead.id}`;
    const enrolmentId = await recordEnrolment(pool, { workflowId, campaignId: 'bench-desk', campaignVersion: 1, leadId: lead.id, at });
    out.push({
      handoffId: `enrolment-${enrolmentId}-handoff-1`,
      enrolmentId,
      leadId: lead.id,
      campaignId: 'bench-desk',
      score: 100,
      reasons: ['score >= 60'],
      breakdown: [{ label: 'asked for a demo', points: 100 }],
      firstContactDue: at + 8 * HOUR,
      assign: { pool: 'bench', strategy: 'round_robin' },
      at,
      ...(desk && {
        desk: { route: { pool: 'bench', match: {}, rule: 'default' }, sla: SLA, template: 'sales-handoff', from: { email: 'hello@acme.example' }, campaign: { id: 'bench-desk', version: 1, name: 'Bench' } },
      }),
    });
  }
  return out;
}

export async function main(options: { handoffs: number; concurrency: number }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-desk-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), persistent: false });
  const pool = createPool(await database.createDatabase('desk'), options.concurrency + 4);
  try {
    await migrate(database.urlFor('desk'));
    useAddressKey(BENCH_CONFIG.dataSecret);
    await adoptAddressKey(pool);
    const parsed = parseCampaign(CAMPAIGN);
    if (!parsed.ok) throw new Error('the bench campaign does not parse');
    await saveCampaignVersion(pool, parsed.campaign);
    const at = Date.parse('2026-12-07T00:30:00Z'); // a Monday, 09:30 in Tokyo
    await upsertSalesPool(pool, { name: 'bench', managerEmail: 'manager@acme.example', timezone: 'Asia/Tokyo', holidays: 'JP' });
    for (let i = 0; i < REPS; i++) {
      const { rep } = await upsertSalesRep(pool, { email: `rep${i}@acme.example`, name: `Rep ${i}`, pool: 'bench', weight: 1 + (i % 3), capacity: i % 5 === 4 ? 3 : null });
      if (i % 7 === 6) await addAbsence(pool, rep.id, { startsAt: new Date(at - HOUR), endsAt: new Date(at + 30 * 24 * HOUR) });
    }
    const deps = { pool, templates: await TemplateLibrary.load(), links: new Links({ baseUrl: BENCH_CONFIG.publicUrl, secret: BENCH_CONFIG.linkSecret }), mailDomain: 'bench.example' };
    const activities = createHandoffActivities(deps);
    const send = createSendActivities(deps);

    const legacy = await requests(pool, 'legacy', options.handoffs, at, false);
    const deskRequests = await requests(pool, 'desk', options.handoffs, at, true);

    // Before the desk: the round-robin cursor, then the notice as the workflow's second activity.
    const baseline = await timed(legacy, options.concurrency, async (request) => {
      const opened = await activities.openHandoff(request);
      await send.queueEmail({
        idempotencyKey: `${request.handoffId}:notice`,
        kind: 'sales_notice',
        requestedAt: at,
        from: { email: 'hello@acme.example' },
        template: 'sales-handoff',
        subject: 'New {{lead.role}} lead: {{lead.first_name}} — score {{score}}',
        campaign: { id: 'bench-desk', version: 1, name: 'Bench' },
        enrolmentId: request.enrolmentId,
        leadId: request.leadId,
        to: opened.owner!,
        data: { reasons: request.reasons, score: 100, breakdown: request.breakdown, recent_activity: [], owner: opened.owner },
        handoff: { id: request.handoffId, deadline: request.firstContactDue, timezone: 'Asia/Tokyo' },
      });
    });
    const desk = await timed(deskRequests, options.concurrency, (request) => activities.openHandoff(request));

    // Every desk handoff's reminder falls due: one round works them all.
    const roundStarted = performance.now();
    // Due Tuesday 09:30 in Tokyo (one 9-hour business day later), the reminder two hours before.
    const worked = await createSalesDesk(deps).runDue(new Date(at + 22 * HOUR + 45 * 60_000));
    const roundSeconds = (performance.now() - roundStarted) / 1000;

    const rate = (r: { seconds: number }) => options.handoffs / r.seconds;
    const p = (r: { ms: number[] }, q: number) => quantile(r.ms, q).toFixed(1);
    console.log(`sales desk (${options.handoffs} handoffs, ${options.concurrency} at a time, a pool of ${REPS} reps: weights 1–3, ${Math.floor(REPS / 7)} away, ${REPS / 5} with capacity 3)`);
    console.log(`  baseline: before the desk (cursor + notice activity)   ${Math.round(rate(baseline)).toLocaleString('en').padStart(6)} handoffs/s, p50 ${p(baseline, 0.5)} ms, p99 ${p(baseline, 0.99)} ms`);
    console.log(`  the desk: routed by availability + SLA + notice        ${Math.round(rate(desk)).toLocaleString('en').padStart(6)} handoffs/s, p50 ${p(desk, 0.5)} ms, p99 ${p(desk, 0.99)} ms`);
    console.log(`  ratio: ${(rate(desk) / rate(baseline)).toFixed(2)}× the baseline's throughput`);
    console.log(`  a desk round over ${worked} handoffs due for their reminder: ${roundSeconds.toFixed(2)} s (${Math.round(worked / roundSeconds).toLocaleString('en')} handoffs/s, each reminder rendered and queued)`);
  } finally {
    await pool.end();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { handoffs: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' } } });
  await main({ handoffs: Number(values.handoffs), concurrency: Number(values.concurrency) });
}
