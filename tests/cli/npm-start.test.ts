// `npm start` on a machine where nothing is configured (no NODE_ENV, no secrets): it generates
// its secrets once into the data folder (owner-only), runs the whole stack and the demo, and the
// dev server's Web UI is given a codec endpoint that decodes the demo's encrypted payloads.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withLocalSecrets } from '../../cli/secrets';
import { SECRET_VARIABLES } from '../../runtime/config';
import { freePort } from '../../runtime/free-port';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STARTUP_MS = 240_000;


let dir: string;
let child: ChildProcess;
let output = '';
let ports: Record<'api' | 'temporal' | 'ui', number>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nurture-npm-start-'));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as its own user, which must reach the data folder
  const [api, temporal, ui, smtp, inbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  ports = { api, temporal, ui };
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'TMPDIR'].includes(name)));
  child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...inherited,
      NURTURE_DATA_DIR: join(dir, 'data'),
      PORT: String(api),
      PUBLIC_URL: `http://127.0.0.1:${api}`,
      TEMPORAL_PORT: String(temporal),
      TEMPORAL_UI_PORT: String(ui),
      SMTP_SINK_PORT: String(smtp),
      INBOX_PORT: String(inbox),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const running = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not say it runs within ${STARTUP_MS / 1000} s:\n${output}`)), STARTUP_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Nurture is running.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  await running;
}, STARTUP_MS + 10_000);

afterAll(async () => {
  // npm start and everything it started (one process group): Ctrl-C, then SIGKILL if need be.
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    signalGroup('SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  }
  if (child) signalGroup('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}, 60_000);

it('generates random, distinct, long secrets into the data folder, readable by the owner only', async () => {
  const file = join(dir, 'data', 'secrets.json');
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const secrets = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  expect(Object.keys(secrets).sort()).toEqual([...SECRET_VARIABLES].sort());
  for (const value of Object.values(secrets)) expect(value.length).toBeGreaterThanOrEqual(32);
  expect(new Set(Object.values(secrets)).size).toBe(SECRET_VARIABLES.length);
  // The next start reads the same ones; a secret set in the environment wins.
  const again = await withLocalSecrets(join(dir, 'data'), { LINK_SECRET: 'from-the-environment-of-at-least-32-chars' });
  expect(again.LINK_SECRET).toBe('from-the-environment-of-at-least-32-chars');
  expect(again.DATA_SECRET).toBe(secrets.DATA_SECRET);
});

it("the demo runs; its payloads in Temporal are encrypted and the Web UI's codec endpoint decodes them", async () => {
  expect((await fetch(`http://127.0.0.1:${ports.api}/healthz`)).status).toBe(200);
  const stack = JSON.parse(await readFile(join(dir, 'data', 'stack.json'), 'utf8')) as { databaseUrl: string; webUiKey: string };
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ workflow_id: string }>('SELECT workflow_id FROM enrolments ORDER BY id LIMIT 1').finally(() => db.end());
  expect(rows).toHaveLength(1);
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    const history = await new Client({ connection }).workflow.getHandle(rows[0]!.workflow_id).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe('binary/encrypted');
    const uiOrigin = `http://localhost:${ports.ui}`;
    const response = await fetch(`http://127.0.0.1:${ports.api}/codec/k/${stack.webUiKey}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: uiOrigin, 'x-namespace': 'default' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
            data: Buffer.from(payload.data!).toString('base64'),
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const decoded = (await response.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain('"campaignVersion"');
  } finally {
    await connection.close();
  }
  // The Web UI was told where to decode: its settings name the endpoint with the read key.
  const settings = (await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  expect(settings.Codec?.Endpoint).toBe(`http://127.0.0.1:${ports.api}/codec/k/${stack.webUiKey}`);
});
