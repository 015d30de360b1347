// `nurture test <campaign> <scenario>`: runs scripted leads through the campaign on the real
// engine in virtual time (cli/scenario-runner.ts) and reports each expectation with what actually
// happened. It needs no running stack: it starts Temporal's time-skipping test server and an
// embedded PostgreSQL of its own (or uses --database-server), and exits 1 when an expectation fails.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCampaignError, parseCampaign, parseScenario } from '../../campaign';
import { ensureDatabase, migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { startEmbeddedPostgres } from '../../devserver/postgres';
import { TemplateLibrary } from '../../mail/renderer';
import { EXIT, type CommandOutput } from '../exit-codes';
import { readInputFile } from '../read-input';
import { runScenario, ScenarioError, type ScenarioReport } from '../scenario-runner';

export async function testCommand(campaignFile: string, scenarioFiles: string[], options: { databaseServer?: string; json?: boolean }, out: CommandOutput): Promise<number> {
  const templates = new TemplateLibrary();
  const campaignText = await readInputFile(campaignFile, out);
  if (campaignText === undefined) return EXIT.invalid;
  const campaign = parseCampaign(campaignText, { format: campaignFile.endsWith('.json') ? 'json' : 'yaml', templateExists: (name) => templates.has(name) });
  if (!campaign.ok) {
    for (const error of campaign.errors) out.error(`${campaignFile}: ${formatCampaignError(error)}`);
    return EXIT.invalid;
  }
  const scenarios = [];
  for (const file of scenarioFiles) {
    const text = await readInputFile(file, out);
    if (text === undefined) return EXIT.invalid;
    const scenario = parseScenario(text);
    if (!scenario.ok) {
      for (const error of scenario.errors) out.error(`${file}: ${formatCampaignError(error)}`);
      return EXIT.invalid;
    }
    scenarios.push({ file, scenario: scenario.scenario });
  }

  const scratch = options.databaseServer ? undefined : await mkdtemp(join(tmpdir(), 'nurture-test-'));
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  try {
    let serverUrl = options.databaseServer;
    if (!serverUrl) {
      embedded = await startEmbeddedPostgres({ dataDir: join(scratch!, 'postgres'), persistent: false });
      serverUrl = embedded.serverUrl;
    }
    let failed = false;
    for (const { file, scenario } of scenarios) {
      const name = `nurture_scenario_${randomBytes(6).toString('hex')}`;
      const databaseUrl = await ensureDatabase(serverUrl, name);
      await migrate(databaseUrl);
      const pool = createPool(databaseUrl);
      try {
        const report = await runScenario({ campaign: campaign.campaign, scenario, pool, databaseUrl });
        if (options.json) out.log(JSON.stringify(report, null, 2));
        else for (const line of reportLines(file, report)) out.log(line);
        failed ||= !report.passed;
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        out.error(`${file}: ${error.message}`);
        failed = true;
      } finally {
        await pool.end();
        await dropDatabase(serverUrl, name);
      }
    }
    return failed ? EXIT.invalid : EXIT.ok;
  } finally {
    await embedded?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function dropDatabase(serverUrl: string, name: string) {
  const admin = createPool(serverUrl);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function reportLines(file: string, report: ScenarioReport): string[] {
  const lines = [`${file}: scenario "${report.scenario}" on campaign ${report.campaign}, from ${new Date(report.start).toISOString()} (${(report.runMs / 1000).toFixed(1)} s)`];
  for (const lead of report.leads) {
    lines.push(`  ${lead.name} <${lead.email}>`);
    for (const result of lead.results) lines.push(`    ${result.passed ? '✓' : '✗'} ${result.text}${result.passed ? ` — ${result.actual}` : ` — FAILED: ${result.actual}`}`);
    if (lead.results.some((result) => !result.passed)) {
      lines.push('    what happened:');
      for (const line of lead.history.length ? lead.history : ['nothing']) lines.push(`      ${line}`);
    }
  }
  const failures = report.leads.flatMap((lead) => lead.results).filter((result) => !result.passed).length;
  lines.push(failures ? `  ${failures} expectation${failures === 1 ? '' : 's'} failed` : '  all expectations met');
  return lines;
}
