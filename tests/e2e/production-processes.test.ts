// The production processes as README "Production deployment" runs them: `api/main.ts` and
// `worker/main.ts` as child processes configured only by their environment, against an existing
// PostgreSQL (a fresh, empty database: the processes migrate it), Temporal's dev server and an
// SMTP server. A marketer creates an API key with the `nurture` command, a website drives the
// API over HTTP, the first email arrives at the SMTP server, and SIGTERM stops both processes
// cleanly. The commands are the README's own: the test checks that the README still says them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, type TestContext } from 'vitest';
import { ensureDatabase } from '../../db/migrate';
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from '../../devserver/smtp-sink';
import { temporalForTests } from '../../devserver/temporal';
import { freePort } from '../../runtime/free-port';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

// The commands of README "Production deployment", word for word.
const API_COMMAND = 'node --import tsx api/main.ts';
const WORKER_COMMAND = 'node --import tsx worker/main.ts';
const KEY_COMMAND = 'npx nurture api-key create --name website --scopes write';

const PUBLIC_URL = 'https://nurture.test';
const MAIL_DOMAIN = 'mail.nurture.test';
const STARTUP_MS = 45_000;
const STOP_MS = 20_000;

interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  /** Resolves when a line of output matches. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const processes: RunningProcess[] = [];

function start(name: string, command: string, env: NodeJS.ProcessEnv): RunningProcess {
  const [file, ...args] = command.split(' ');
  const child = spawn(file!, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const watchers = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString();
    for (const check of watchers) check();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const running: RunningProcess = {
    name,
    child,
    output: () => text,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(text)) done();
        };
        const timer = setTimeout(() => done(new Error(`${name}: no output matching ${pattern} within ${timeoutMs} ms\n${report(running)}`)), timeoutMs);
        // A process that dies while starting fails at once, with what it said.
        void exited.then(({ code, signal }) => {
          if (!pattern.test(text)) done(new Error(`${name} exited (code ${code}, signal ${signal}) before printing ${pattern}\n${report(running)}`));
        });
        watchers.add(check);
        check();
      });
    },
    exited,
  };
  processes.push(running);
  return running;
}

function report(running: RunningProcess): string {
  return `----- ${running.name} (${running.child.spawnargs.join(' ')}) output -----\n${running.output() || '(nothing)'}\n----- end of ${running.name} -----`;
}

/** Prints every child's output when the test fails. */
function printOutputOnFailure(context: TestContext) {
  context.onTestFailed(() => {
    for (const running of processes) console.error(report(running));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

let temporal: TestWorkflowEnvironment;
let sink: SmtpSink;
let databaseServerUrl: string;
let databaseName: string;
let databaseUrl: string;
let apiPort: number;
let environment: NodeJS.ProcessEnv;
let api: RunningProcess;
let worker: RunningProcess;
const base = () => `http://127.0.0.1:${apiPort}`;

beforeAll(async () => {
  databaseServerUrl = inject('databaseServerUrl');
  databaseName = `production_${randomUUID().replaceAll('-', '')}`;
  [temporal, sink, apiPort, databaseUrl] = await Promise.all([
    temporalForTests('dev'),
    startSmtpSink(),
    freePort('0.0.0.0'),
    // An empty database, as a new deployment has: the processes create the tables.
    ensureDatabase(databaseServerUrl, databaseName),
  ]);
  // Only what a production host would set (plus PATH and HOME for npx, and an external
  // Temporal's TEMPORAL_* credentials when the suite runs against one).
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'TMPDIR'].includes(name) || name.startsWith('TEMPORAL_')));
  environment = {
    ...inherited,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
    NURTURE_TASK_QUEUE: `production-${randomUUID()}`,
    SMTP_URL: sink.url,
    MAIL_DOMAIN,
    LINK_SECRET: 'production-test-link-secret-of-32-characters',
    WEBHOOK_SECRET: 'production-test-webhook-secret-of-32-characters',
    DATA_SECRET: 'production-test-data-secret-of-32-characters',
    HOST: '0.0.0.0',
    PORT: String(apiPort),
    PUBLIC_URL,
  };
  api = start('api', API_COMMAND, environment);
  worker = start('worker', WORKER_COMMAND, environment);
  await Promise.all([api.waitForOutput(/"msg":"API listening"/, STARTUP_MS), worker.waitForOutput(/"msg":"worker running"/, STARTUP_MS)]);
}, 120_000);

afterAll(async () => {
  for (const running of processes) {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  }
  await Promise.all(processes.map((running) => withTimeout(running.exited, 5_000, `${running.name} to die`).catch(() => {})));
  await sink?.close();
  await temporal?.teardown();
  if (databaseServerUrl && databaseName) {
    const admin = new pg.Client({ connectionString: databaseServerUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
});

describe('the production processes, started as the README says', () => {
  let key: string;
  let leadId: string;

  async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  it('the README names these commands', () => {
    const section = README.slice(README.indexOf('## Production deployment'), README.indexOf('## Temporal servers'));
    for (const command of [API_COMMAND, WORKER_COMMAND, KEY_COMMAND]) expect(section).toContain(command);
    for (const variable of ['NODE_ENV', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'MAIL_DOMAIN', 'LINK_SECRET', 'WEBHOOK_SECRET', 'DATA_SECRET', 'HOST', 'PORT', 'PUBLIC_URL']) {
      expect(section).toContain(variable);
    }
  });

  it('the API answers /healthz', async (context) => {
    printOutputOnFailure(context);
    const response = await fetch(`${base()}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('a key from `nurture api-key create`, a campaign launched over HTTP, a lead and her entry event: the first email arrives', async (context) => {
    printOutputOnFailure(context);
    const [file, ...args] = KEY_COMMAND.split(' ');
    const created = await promisify(execFile)(file!, args, { cwd: ROOT, env: { ...environment } }).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`${KEY_COMMAND} failed (exit ${error.code}):\n${error.stdout}\n${error.stderr}`);
    });
    key = /^(nk_\S+)$/m.exec(created.stdout)?.[1] ?? '';
    expect(key, `no key in the output of ${KEY_COMMAND}:\n${created.stdout}\n${created.stderr}`).not.toBe('');

    // The reference campaign, its send window opened to every hour so that the test passes whenever it runs.
    const yaml = readFileSync(join(ROOT, 'campaigns/saas-whitepaper-nurture.yaml'), 'utf8').replace(
      /^send_window: .*$/m,
      'send_window: { days: every_day, hours: "00:00-24:00", timezone: lead }',
    );
    const campaign = await call('POST', '/v1/campaigns', yaml, 'application/yaml');
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    expect(campaign.body).toMatchObject({ id: 'saas-whitepaper-nurture', version: 1 });
    const launched = await call('POST', '/v1/campaigns/saas-whitepaper-nurture/launch');
    expect(launched.status, JSON.stringify(launched.body)).toBe(200);
    expect(launched.body.status).toBe('active');

    const email = 'mika.ito@contoso.example';
    const lead = await call('PUT', '/v1/leads', {
      email,
      timezone: 'Asia/Tokyo',
      attributes: { first_name: 'Mika', last_name: 'Ito', company: { name: 'Contoso', employees: 300 }, role: 'director', region: 'kanto' },
    });
    expect(lead.status, JSON.stringify(lead.body)).toBe(201);
    leadId = lead.body.lead.id;
    const consent = await call('POST', `/v1/leads/${leadId}/consent`, { purpose: 'marketing_email', granted: true, source: 'form:whitepaper' });
    expect(consent.status, JSON.stringify(consent.body)).toBe(201);
    const event = await call('POST', '/v1/events', { id: 'production-1', lead: { id: leadId }, type: 'asset.downloaded', data: { asset: 'whitepaper' } });
    expect(event.status, JSON.stringify(event.body)).toBe(202);

    // The welcome email, as the SMTP server received and parsed it.
    await sink.waitFor((messages) => messages.some((message) => message.to.includes(email)), 30_000);
    const welcome = sink.messages.find((message) => message.to.includes(email)) as ReceivedMessage;
    expect(welcome.to).toEqual([email]);
    expect(['Your guide is ready', 'Mika, your data-driven growth guide']).toContain(welcome.subject);
    expect(welcome.from).toBe('marketing@acme.example');
    // Configured by the environment: the Message-ID's domain and the public URL of the links.
    expect(welcome.messageId).toMatch(new RegExp(`@${MAIL_DOMAIN.replaceAll('.', '\\.')}>$`));
    expect(welcome.headers['list-unsubscribe']).toMatch(new RegExp(`^<${PUBLIC_URL}/u/`));
    expect(welcome.html).toContain('Mika');
  });

  it("Temporal keeps the lead's data encrypted; the codec endpoint reads it with a key, and nothing once she is erased", async (context) => {
    printOutputOnFailure(context);
    const [file, ...args] = KEY_COMMAND.replace('--name website --scopes write', '--name operator --scopes read').split(' ');
    const operatorKey = /^(nk_\S+)$/m.exec((await promisify(execFile)(file!, args, { cwd: ROOT, env: { ...environment } })).stdout)?.[1];
    const history = await temporal.client.workflow.getHandle(`nurture:saas-whitepaper-nurture:${leadId}`).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const wire = input.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    }));
    // As stored by the dev server: encrypted, no trace of her.
    expect(wire[0]!.metadata.encoding).toBe(Buffer.from('binary/encrypted').toString('base64'));
    expect(JSON.stringify(history)).not.toMatch(/mika|contoso/i);

    const decode = (authorization?: string) =>
      fetch(`${base()}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ payloads: wire }),
      });
    expect((await decode()).status).toBe(401);
    const decoded = await decode(`Bearer ${operatorKey}`);
    expect(decoded.status).toBe(200);
    const text = ((await decoded.json()) as { payloads: { data: string }[] }).payloads.map((payload) => Buffer.from(payload.data, 'base64').toString()).join('');
    expect(text).toContain('mika.ito@contoso.example');

    const erased = await call('DELETE', `/v1/leads/${leadId}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body.unterminated_workflows).toEqual([]);
    // The API that erased her forgot her key at once (other processes within a minute).
    const afterwards = (await (await decode(`Bearer ${operatorKey}`)).json()) as { payloads: { data: string }[] };
    expect(afterwards.payloads.map((payload) => Buffer.from(payload.data, 'base64').toString())).toEqual(wire.map(() => '"[erased]"'));
  }, 120_000);

  it('SIGTERM stops both processes cleanly', async (context) => {
    printOutputOnFailure(context);
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    const [apiExit, workerExit] = await Promise.all([withTimeout(api.exited, STOP_MS, 'the API to exit after SIGTERM'), withTimeout(worker.exited, STOP_MS, 'the worker to exit after SIGTERM')]);
    expect(apiExit).toEqual({ code: 0, signal: null });
    expect(workerExit).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('"msg":"worker stopped"');
  });
});

describe('secrets', () => {
  async function refusal(name: string, command: string, env: NodeJS.ProcessEnv): Promise<string> {
    const refused = start(name, command, { ...env, PORT: String(await freePort('0.0.0.0')) });
    const exit = await withTimeout(refused.exited, STARTUP_MS, `${name} to exit`);
    expect(exit.code, report(refused)).not.toBe(0);
    expect(exit.code).not.toBeNull();
    // One clear line, not a stack trace.
    expect(refused.output()).not.toMatch(/^\s+at /m);
    return refused.output();
  }

  it('NODE_ENV unset and no secrets: the API and the worker refuse to start and say what to set', async (context) => {
    printOutputOnFailure(context);
    const { NODE_ENV: _node, LINK_SECRET: _link, WEBHOOK_SECRET: _webhook, DATA_SECRET: _data, ...bare } = environment;
    for (const [name, command] of [['api', API_COMMAND], ['worker', WORKER_COMMAND]] as const) {
      const output = await refusal(`${name} without secrets`, command, bare);
      expect(output).toContain('LINK_SECRET, WEBHOOK_SECRET, DATA_SECRET must be set');
      expect(output).toContain('at least 32 characters');
    }
  });

  it('the published development secret, a short secret or two equal secrets are refused, naming the variable', async (context) => {
    printOutputOnFailure(context);
    const { NODE_ENV: _node, ...development } = environment;
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ LINK_SECRET: 'nurture-development-secret-change-me' }, 'LINK_SECRET is the published development secret'],
      [{ WEBHOOK_SECRET: 'short-secret' }, 'WEBHOOK_SECRET must be at least 32 characters long (it has 12)'],
      [{ DATA_SECRET: environment.LINK_SECRET }, 'DATA_SECRET must differ from LINK_SECRET'],
    ];
    for (const [override, message] of cases) expect(await refusal('api with a bad secret', API_COMMAND, { ...development, ...override })).toContain(message);
  });
});
