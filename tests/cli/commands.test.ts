// The `nurture` commands that talk to a running Nurture, run as a user runs them (a child
// process) against the real API over a real engine: Temporal's test server, the real worker,
// PostgreSQL.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app';
import { writeLocalStack } from '../../cli/local-stack';
import { createApiKey } from '../../db/api-keys';
import { loadCampaign, startHarness, TEST_CONFIG, type Harness } from '../e2e/harness';

const CAMPAIGN = 'saas-whitepaper-nurture';

let harness: Harness;
let app: FastifyInstance;
let apiUrl: string;
let apiKey: string;
/** Empty: no stack file of a real `npm start` is read. */
let dataDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the test's API, key and database unless `env` overrides them (undefined removes one). */
async function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NURTURE_DATA_DIR: dataDir,
    NURTURE_API_URL: apiUrl,
    NURTURE_API_KEY: apiKey,
    DATABASE_URL: harness.db.url,
    ...env,
  };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'cli/nurture.ts', ...args], { cwd: process.cwd(), env: childEnv });
    return { code: 0, stdout, stderr: withoutNpmNotices(stderr) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: withoutNpmNotices(e.stderr) };
  }
}

/** npx's own warnings about the machine's npm configuration are not the command's output. */
const withoutNpmNotices = (stderr: string) => stderr.replace(/^npm warn .*\n/gm, '');

async function campaignStatus(id: string): Promise<string | undefined> {
  const { rows } = await harness.db.pool.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [id]);
  return rows[0]?.status;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  harness = await startHarness();
  app = await buildApi({ pool: harness.db.pool, engine: harness.engine, links: { baseUrl: 'http://127.0.0.1', secret: TEST_CONFIG.linkSecret } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  apiKey = (await createApiKey(harness.db.pool, 'cli test', ['read', 'write'])).key;
  dataDir = await mkdtemp(join(tmpdir(), 'nurture-cli-'));
});

afterAll(async () => {
  await app?.close();
  await harness?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('nurture launch', () => {
  it('uploads the demo campaign and launches it; launching it again says it is already active', async () => {
    const r = await run(['launch', `campaigns/${CAMPAIGN}.yaml`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`campaign ${CAMPAIGN}: uploaded as version 1`);
    expect(r.stdout).toContain(`id ${CAMPAIGN}  version 1  status active`);
    expect(await campaignStatus(CAMPAIGN)).toBe('active');

    const again = await run(['launch', `campaigns/${CAMPAIGN}.yaml`]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('version 1 already has this content');
    expect(again.stdout).toContain(`campaign ${CAMPAIGN} is already active`);
  });

  it('prints the API validation errors with their lines and exits 1', async () => {
    const file = join(dataDir, 'broken.yaml');
    await writeFile(
      file,
      'id: broken-cli\nname: X\nfrom: { email: a@b.c }\nentry: { on: page.viewed }\nconsent: marketing_email\nscoring: { fit: [] }\nstages: { warm: 10, hot: 20 }\ntracks:\n  cold:\n    - wait: soon\n',
    );
    const r = await run(['launch', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: tracks.cold[0].wait (line 10): expected a duration like 5d`);
    expect(r.stderr).toContain('nothing was uploaded');
    expect(await campaignStatus('broken-cli')).toBeUndefined();
  });

  it('names an unreadable file', async () => {
    const r = await run(['launch', join(dataDir, 'missing.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*missing\.yaml: ENOENT/);
  });
});

describe('nurture pause and resume', () => {
  it('pauses and resumes a campaign; pausing twice explains why not', async () => {
    const paused = await run(['pause', CAMPAIGN]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain(`campaign ${CAMPAIGN}: paused (version 1)`);
    expect(await campaignStatus(CAMPAIGN)).toBe('paused');

    const twice = await run(['pause', CAMPAIGN]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`cannot pause campaign ${CAMPAIGN}: campaign ${CAMPAIGN} is paused; pause needs it to be active`);

    const resumed = await run(['resume', CAMPAIGN]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`campaign ${CAMPAIGN}: active`);
    expect(await campaignStatus(CAMPAIGN)).toBe('active');
  });

  it('exits 1 for an unknown campaign', async () => {
    const r = await run(['pause', 'no-such-campaign']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot pause campaign no-such-campaign: no such campaign');
  });
});

describe('nurture leads import', () => {
  it('keeps the good rows, reports every bad row with its line and exits 1', async () => {
    const file = join(dataDir, 'leads.csv');
    await writeFile(
      file,
      [
        'email,first_name,company,employees,role,consent',
        'ana@example.com,Ana,Globex,250,manager,yes',
        'bob@example.com,Bob,Initech,12,engineer,no',
        'not-an-email,Carl,,,,',
        'dee@example.com,Dee,Acme,many,vp,yes',
        'eve@example.com,Eve,Hooli,40,director,maybe',
        '',
      ].join('\n'),
    );
    const r = await run(['leads', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`imported 2 leads from ${file}: 2 new, 0 updated`);
    expect(r.stdout).toContain('rejected 3 rows:');
    expect(r.stdout).toContain(`${file}: line 4: email 'not-an-email' is not an email address`);
    expect(r.stdout).toContain(`${file}: line 5: employees 'many' is not a whole number`);
    expect(r.stdout).toContain(`${file}: line 6: consent must be yes, no or empty, not 'maybe'`);
    // Not a terminal: no bar, one line at the end.
    expect(r.stderr).toMatch(/uploaded .*leads\.csv \(0\.0 MB\) in \d+\.\d s/);
    const { rows } = await harness.db.pool.query<{ email: string; attributes: { company?: { employees?: number } } }>('SELECT email, attributes FROM leads ORDER BY email');
    expect(rows.map((row) => row.email)).toEqual(['ana@example.com', 'bob@example.com']);
    expect(rows[0]!.attributes.company?.employees).toBe(250);

    // The same file again: the good rows are updated, not duplicated.
    const again = await run(['leads', 'import', file]);
    expect(again.stdout).toContain('imported 2 leads');
    expect(again.stdout).toContain('0 new, 2 updated');
  });

  it('exits 0 when every row is good, and explains a header without email', async () => {
    const good = join(dataDir, 'good.csv');
    await writeFile(good, 'email,first_name\nfay@example.com,Fay\n');
    const r = await run(['leads', 'import', good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('imported 1 lead from');
    expect(r.stdout).not.toContain('rejected');

    const headless = join(dataDir, 'headless.csv');
    await writeFile(headless, 'mail,name\nx@example.com,X\n');
    const bad = await run(['leads', 'import', headless]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${headless}: the header row must name an 'email' column`);
  });
});

describe('nurture stats', () => {
  it('prints the funnel, steps, variants and SLA of the launched campaign', async () => {
    await harness.startAtCanonicalInstant(loadCampaign(CAMPAIGN));
    const { rows } = await harness.db.pool.query<{ id: string }>(`SELECT id FROM leads WHERE email = 'ana@example.com'`);
    const enrol = await fetch(`${apiUrl}/v1/campaigns/${CAMPAIGN}/enrolments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lead_id: rows[0]!.id }),
    });
    expect(enrol.status).toBe(201);
    await harness.waitForMail((message) => message.to.includes('ana@example.com'));
    await harness.settle();

    const r = await run(['stats', CAMPAIGN]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Campaign ${CAMPAIGN}`);
    expect(r.stdout).toMatch(/stage\s+leads\s+of enrolled\s+of previous\n\s+enrolled\s+1\s+100\.0%\n\s+reached warm\s+0\s+0\.0%\s+0\.0%/);
    expect(r.stdout).toMatch(/step\s+template\s+sent\s+opened\s+open %\s+clicked\s+click %\s+human opened\s+human open %\s+human clicked\s+human click %\n\s+tracks\.cold\[0\]\s+welcome\s+1\s+0\s+0\.0%\s+0\s+0\.0%\s+0\s+0\.0%\s+0\s+0\.0%\n/);
    expect(r.stdout).toMatch(/A\/B variants\n\s+test\s+variant\s+sent.*\n\s+tracks\.cold\[0\]\s+[AB]\s+1\s+0\s+0\.0%/);
    expect(r.stdout).toContain('  tracks.cold[0]: no winner yet');
    expect(r.stdout).toMatch(/Sales SLA\n\s+handoffs\s+answered\s+answered in time\s+overdue\s+compliance\n\s+0\s+0\s+0\s+0\s+–/);

    const json = await run(['stats', CAMPAIGN, '--json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.campaign_id).toBe(CAMPAIGN);
    expect(body.funnel.enrolled).toBe(1);
  });

  it('exits 1 for an unknown campaign', async () => {
    const r = await run(['stats', 'no-such-campaign']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no campaign no-such-campaign');
  });
});

describe('nurture api-key create', () => {
  it('prints a key, once, that the API accepts', async () => {
    const r = await run(['api-key', 'create', '--name', 'reporting', '--scopes', 'read']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cannot be shown again');
    const key = /nk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(r.stdout)?.[0];
    expect(key).toBeDefined();
    const list = await fetch(`${apiUrl}/v1/campaigns`, { headers: { authorization: `Bearer ${key}` } });
    expect(list.status).toBe(200);
    // Read only, as asked.
    const pause = await fetch(`${apiUrl}/v1/campaigns/${CAMPAIGN}/pause`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(pause.status).toBe(403);
  });

  it('refuses unknown scopes (usage, exit 2) and says how to name a database when none is set (exit 3)', async () => {
    expect((await run(['api-key', 'create', '--name', 'x', '--scopes', 'admin'])).code).toBe(2);
    const r = await run(['api-key', 'create', '--name', 'x'], { DATABASE_URL: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('set DATABASE_URL');
    expect(r.stderr).toContain('npm start');
  });
});

describe('configuration', () => {
  it('exits 3 when the API cannot be reached, naming where it looked', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await run(['stats', CAMPAIGN], { NURTURE_API_URL: url });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the API at ${url} (from NURTURE_API_URL)`);
    expect(r.stderr).toContain('is the API running? (npm start)');
  });

  it('exits 1 with the key named when the API refuses it', async () => {
    const r = await run(['stats', CAMPAIGN], { NURTURE_API_KEY: 'nk_000000000000_0000000000000000000000000000000000000000000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the API key is invalid or revoked');
    expect(r.stderr).toContain('check the API key (from NURTURE_API_KEY)');
  });

  it('uses the stack file of npm start when the environment names no API or database', async () => {
    const stackDir = await mkdtemp(join(tmpdir(), 'nurture-cli-stack-'));
    try {
      await writeLocalStack({ apiUrl, apiKey, databaseUrl: harness.db.url, inboxUrl: 'http://127.0.0.1:1' }, { NURTURE_DATA_DIR: stackDir });
      const unset = { NURTURE_DATA_DIR: stackDir, NURTURE_API_URL: undefined, NURTURE_API_KEY: undefined, DATABASE_URL: undefined };
      const stats = await run(['stats', CAMPAIGN, '--json'], unset);
      expect(stats.code).toBe(0);
      expect(JSON.parse(stats.stdout).campaign_id).toBe(CAMPAIGN);
      const key = await run(['api-key', 'create', '--name', 'from stack'], unset);
      expect(key.code).toBe(0);
      expect(key.stdout).toMatch(/nk_[0-9a-f]{12}_/);

      // The environment wins over the stack file, and an option over the environment.
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const fromEnv = await run(['stats', CAMPAIGN], { NURTURE_DATA_DIR: stackDir, NURTURE_API_URL: dead });
      expect(fromEnv.code).toBe(3);
      const fromOption = await run(['stats', CAMPAIGN, '--api-url', apiUrl], { NURTURE_DATA_DIR: stackDir, NURTURE_API_URL: dead });
      expect(fromOption.code).toBe(0);
    } finally {
      await rm(stackDir, { recursive: true, force: true });
    }
  });

  // Eleven CLI processes at once: slow on a loaded two-core machine.
  it('shows help for every command and exits 0', { timeout: 180_000 }, async () => {
    const commands = [[], ['validate'], ['simulate'], ['launch'], ['pause'], ['resume'], ['leads'], ['leads', 'import'], ['stats'], ['api-key'], ['api-key', 'create']];
    const results = await Promise.all(commands.map((command) => run([...command, '--help'])));
    results.forEach((r, index) => {
      expect({ command: commands[index], code: r.code }).toEqual({ command: commands[index], code: 0 });
      expect(r.stdout).toContain('Usage: nurture');
    });
  });
});
