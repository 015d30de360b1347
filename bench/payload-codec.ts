// What the payload encryption costs: an enrolment's start input (the demo campaign's snapshot and
// a lead) converted and encrypted, then decrypted and converted back — the work a client and a
// worker add per payload — against the same round trip through Temporal's JSON converter alone,
// measured in the same run. Keys come from the embedded PostgreSQL (500 leads, cached as in a
// running process); the cost of a lead's first payload (creating and storing its key) is shown
// apart.
//
//   npx tsx bench/payload-codec.ts [--payloads 20000]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseCampaign } from '../campaign';
import { workflowIdFor } from '../campaign/enrolment-id';
import { payloadEncryption } from '../db/data-keys';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../devserver/postgres';
import { enrolmentInput } from '../workflows/nurture';
import { BENCH_CONFIG } from './support/stack';

const LEADS = 500;
const NEW_KEYS = 1_000;

export async function main(options: { payloads: number }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-codec-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), persistent: false });
  const pool = createPool(await database.createDatabase('codec'));
  try {
    await migrate(database.urlFor('codec'));
    const parsed = parseCampaign(await readFile(new URL('../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8'));
    if (!parsed.ok) throw new Error('the demo campaign does not parse');
    const leadIds = Array.from({ length: LEADS }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const inputs = leadIds.map((id, i) =>
      enrolmentInput(parsed.campaign, 1, {
        id,
        email: `lead${i}@company${i}.example`,
        attributes: { first_name: `Lead${i}`, company: { name: `Company ${i}`, employees: 100 + i }, role: 'manager' },
        timezone: 'Asia/Tokyo',
        consent: { marketing_email: true },
      }),
    );
    const codec = payloadEncryption(pool, BENCH_CONFIG.dataSecret);
    const context = (i: number) => ({ type: 'workflow' as const, namespace: 'default', workflowId: workflowIdFor(parsed.campaign.id, leadIds[i % LEADS]!) });
    const bytes = defaultPayloadConverter.toPayload(inputs[0])!.data!.length;

    // Every lead's key created once (as a lead's first enrolment does), then cached.
    for (let i = 0; i < LEADS; i++) await codec.encode([defaultPayloadConverter.toPayload(inputs[i])!], context(i));

    const baselineStarted = performance.now();
    for (let i = 0; i < options.payloads; i++) {
      defaultPayloadConverter.fromPayload(defaultPayloadConverter.toPayload(inputs[i % LEADS])!);
    }
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;

    const started = performance.now();
    for (let i = 0; i < options.payloads; i++) {
      const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(inputs[i % LEADS])!], context(i));
      defaultPayloadConverter.fromPayload((await codec.decode([encoded!]))[0]!);
    }
    const seconds = (performance.now() - started) / 1000;

    const keysStarted = performance.now();
    for (let i = 0; i < NEW_KEYS; i++) {
      const workflowId = workflowIdFor('bench', `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      await codec.encode([defaultPayloadConverter.toPayload('first')!], { type: 'workflow', namespace: 'default', workflowId });
    }
    const keyMs = (performance.now() - keysStarted) / NEW_KEYS;

    const rate = options.payloads / seconds;
    const baselineRate = options.payloads / baselineSeconds;
    console.log(`payload codec (an enrolment's start input: ${(bytes / 1024).toFixed(1)} KB of JSON; ${LEADS} leads' keys cached; one core)`);
    console.log(`  baseline: JSON converter round trip          ${Math.round(baselineRate).toLocaleString('en').padStart(7)} payloads/s (${(1e6 / baselineRate).toFixed(0)} µs each)`);
    console.log(`  encrypted: converter + AES-256-GCM both ways ${Math.round(rate).toLocaleString('en').padStart(7)} payloads/s (${(1e6 / rate).toFixed(0)} µs each)`);
    console.log(`  ratio: ${(rate / baselineRate).toFixed(2)}× the converter alone (+${(1e6 / rate - 1e6 / baselineRate).toFixed(0)} µs per payload)`);
    console.log(`  a lead's first payload (its key created, wrapped and stored): ${keyMs.toFixed(2)} ms (${NEW_KEYS} leads)`);
  } finally {
    await pool.end();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { payloads: { type: 'string', default: '20000' } } });
  await main({ payloads: Number(values.payloads) });
}
