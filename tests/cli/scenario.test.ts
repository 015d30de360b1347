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

it('a wrong expectation, or an open of an email never received, fails the command (exit 1) and says what happened instead', async () => {
  const wrong = join(dir, 'wrong.yaml');
  await writeFile(
    wrong,
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
  const never = join(dir, 'never-received.yaml');
  await writeFile(never, `leads:\n  hiro:\n    email: hiro@initech.example\n    do:\n      - { at: day 0, open: pricing }\n    expect: []\n`);
  const result = await run([wrong, never], true);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain('✓ email welcome by day 0 — sent day 0 10:00');
  expect(result.stdout).toContain('✗ handed off by day 5 — FAILED: not handed off');
  expect(result.stdout).toMatch(/✗ email pricing by day 5 — FAILED: not sent; emails: welcome \(tracks\.cold\[0\]\) sent day 0 10:00; reminder \(tracks\.cold\[1\]\.else\[0\]\) sent day 3 10:00/);
  expect(result.stdout).toContain('what happened:');
  expect(result.stdout).toContain('2 expectations failed');
  expect(result.stderr).toContain(`${never}: day 0: the lead has received no email "pricing" to open (received: none)`);
}, 120_000);

it('refuses a broken scenario file before starting anything, every problem at its place', async () => {
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, `leads:\n  hiro:\n    email: nobody\n    do:\n      - { at: someday, event: x.y }\n    expect:\n      - { stage: lukewarm }\n`);
  const invalid = await run([broken], false);
  expect(invalid.code).toBe(1);
  expect(invalid.stderr.split('\n').filter(Boolean)).toEqual([
    `${broken}: leads.hiro.email: expected an email address`,
    `${broken}: leads.hiro.do[0].at: expected a moment like "day 2", "day 2 14:30" or "36h", got "someday"`,
    `${broken}: leads.hiro.expect[0].stage: expected one of cold, warm, hot`,
  ]);
}, 60_000);

/** `nurture test` as a user runs it, on the suite's PostgreSQL server or (without it) nothing started: the files are refused first. */
function run(scenarios: string[], withServer: boolean) {
  const args = ['tsx', 'cli/nurture.ts', 'test', 'campaigns/saas-whitepaper-nurture.yaml', ...scenarios, ...(withServer ? ['--database-server', inject('databaseServerUrl')] : [])];
  return promisify(execFile)('npx', args, { cwd: process.cwd() }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}
