// `nurture test <campaign> <scenario>` on the real engine in virtual time (Temporal's
// time-skipping test server, the real worker, PostgreSQL, an SMTP sink): the example scenarios
// of both shipped campaigns pass within 10 s each, and a scenario whose expectation is wrong
// fails with exit code 1, naming what actually happened.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parseCampaign, parseScenario } from '../../campaign';
import { runScenario } from '../../cli/scenario-runner';
import { createTestDatabase } from '../support/database';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nurture-scenario-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const name of ['saas-whitepaper-nurture', 'hot-lead-seed002']) {
  it(`the example scenario of ${name} passes on the engine in under 10 s`, async () => {
    const campaign = parseCampaign(await readFile(`campaigns/${name}.yaml`, 'utf8'));
    const scenario = parseScenario(await readFile(`campaigns/scenarios/${name}.yaml`, 'utf8'));
    if (!campaign.ok || !scenario.ok) throw new Error('the example files are invalid');
    const db = await createTestDatabase();
    try {
      const report = await runScenario({ campaign: campaign.campaign, scenario: scenario.scenario, pool: db.pool, databaseUrl: db.url });
      const failed = report.leads.flatMap((lead) => lead.results.filter((result) => !result.passed).map((result) => `${lead.name}: ${result.text}: ${result.actual}`));
      expect(failed).toEqual([]);
      expect(report.passed).toBe(true);
      expect(report.leads.flatMap((lead) => lead.results).length).toBeGreaterThanOrEqual(8);
      console.log(`${name}: scenario run in ${(report.runMs / 1000).toFixed(1)} s`);
      expect(report.runMs).toBeLessThan(10_000);
    } finally {
      await db.drop();
    }
  }, 60_000);
}

it('a wrong expectation fails the command (exit 1) and shows what happened instead', async () => {
  const scenario = join(dir, 'wrong.yaml');
  await writeFile(
    scenario,
    `name: the engineer is expected to be handed off
leads:
  hiro:
    email: hiro@initech.example
    attributes: { first_name: Hiro, company: { employees: 40 }, role: engineer }
    do:
      - { at: day 0, event: asset.downloaded, data: { asset: whitepaper } }
      - { at: "day 0 11:00", open: welcome }
    expect:
      - { email: welcome, by: day 0 }
      - { handoff: true, by: day 5 }
      - { email: pricing, by: day 5 }
`,
  );
  const result = await promisify(execFile)('npx', ['tsx', 'cli/nurture.ts', 'test', 'campaigns/saas-whitepaper-nurture.yaml', scenario, '--database-server', inject('databaseServerUrl')], {
    cwd: process.cwd(),
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
  expect(result.code).toBe(1);
  expect(result.stdout).toContain('✓ email welcome by day 0 — sent day 0 10:00');
  expect(result.stdout).toContain('✗ handed off by day 5 — FAILED: not handed off');
  expect(result.stdout).toMatch(/✗ email pricing by day 5 — FAILED: not sent; emails: welcome \(tracks\.cold\[0\]\) sent day 0 10:00; reminder \(tracks\.cold\[1\]\.else\[0\]\) sent day 3 10:00/);
  expect(result.stdout).toContain('what happened:');
  expect(result.stdout).toContain('2 expectations failed');
}, 90_000);

it('refuses a scenario that opens an email the lead never received, and a broken file, with exit code 1', async () => {
  const scenario = join(dir, 'never-received.yaml');
  await writeFile(scenario, `leads:\n  hiro:\n    email: hiro@initech.example\n    do:\n      - { at: day 0, open: pricing }\n    expect: []\n`);
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, `leads:\n  hiro:\n    email: nobody\n    do:\n      - { at: someday, event: x.y }\n    expect:\n      - { stage: lukewarm }\n`);
  const run = (file: string, server = true) =>
    promisify(execFile)('npx', ['tsx', 'cli/nurture.ts', 'test', 'campaigns/saas-whitepaper-nurture.yaml', file, ...(server ? ['--database-server', inject('databaseServerUrl')] : [])], { cwd: process.cwd() }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
  const never = await run(scenario);
  expect(never.code).toBe(1);
  expect(never.stderr).toContain('day 0: the lead has received no email "pricing" to open (received: none)');
  const invalid = await run(broken, false);
  expect(invalid.code).toBe(1);
  expect(invalid.stderr.split('\n').filter(Boolean)).toEqual([
    `${broken}: leads.hiro.email: expected an email address`,
    `${broken}: leads.hiro.do[0].at: expected a moment like "day 2", "day 2 14:30" or "36h", got "someday"`,
    `${broken}: leads.hiro.expect[0].stage: expected one of cold, warm, hot`,
  ]);
}, 90_000);
