// `npm start`: the whole of Nurture on one machine, on embedded defaults — PostgreSQL (data kept
// in the data folder), Temporal's dev server (workflows kept in a SQLite file), an SMTP sink
// with a web inbox, the API with its dashboard, the worker and its mailer — and the demo
// campaign with a few leads. DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL replace the embedded
// parts with real ones; secrets not set in the environment are generated once and kept in the
// data folder (cli/secrets.ts). Ctrl-C stops everything; the next start resumes where this one stopped.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startApiServer, type ApiServer } from '../api/server';
import { createApiKey, verifyApiKey, type ApiScope } from '../db/api-keys';
import { ensureDatabase, migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { startInbox, type Inbox } from '../devserver/inbox';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../devserver/postgres';
import { startSmtpSink, type SmtpSink } from '../devserver/smtp-sink';
import { connectToExternal, obtainServers, startDevServer, usesExternalTemporal } from '../devserver/temporal';
import { loadConfig, port, type Config } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { StopList } from '../runtime/stop-list';
import { routeTemporalLogs } from '../runtime/temporal-logs';
import { startWorkerRuntime, type WorkerRuntime } from '../worker/runtime';
import { loadDemo } from './demo';
import { dataDir, readLocalStack, writeLocalStack } from './local-stack';
import { withLocalSecrets } from './secrets';

const folder = resolve(dataDir());
await mkdir(folder, { recursive: true });
let config: Config;
try {
  config = loadConfig(await withLocalSecrets(folder));
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`);
  process.exit(1);
}
const log = createLogger('nurture', config.logLevel);
routeTemporalLogs(log, 'WARN');

// Everything started so far, stopped in reverse order on Ctrl-C or on a failed start.
const stops = new StopList(15_000, (message, error) => log.warn({ err: error }, message));
async function stopAll(exitCode: number): Promise<never> {
  await stops.stopAll();
  process.exit(exitCode);
}
process.once('SIGINT', () => {
  console.log('\nStopping Nurture…');
  void stopAll(0);
});
process.once('SIGTERM', () => void stopAll(0));

try {
  // PostgreSQL.
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const database: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: join(folder, 'pg'), port: port(process.env, 'NURTURE_PG_PORT', 0) || undefined });
    stops.add('PostgreSQL', () => database.stop());
    databaseUrl = await ensureDatabase(database.serverUrl, 'nurture');
  }
  await migrate(databaseUrl);
  const pool: Pool = createPool(databaseUrl);
  stops.add('database pool', () => pool.end());

  // A key for the local marketer (dashboard and CLI), and a read key through which the dev
  // server's Web UI decodes the encrypted payloads; both kept while they stay valid.
  const previous = await readLocalStack();
  const keptOr = async (key: string | undefined, name: string, scopes: ApiScope[]) =>
    key && (await verifyApiKey(pool, key)) ? key : (await createApiKey(pool, name, scopes)).key;
  const apiKey = await keptOr(previous?.apiKey, 'local marketer (npm start)', ['read', 'write']);
  const webUiKey = await keptOr(previous?.webUiKey, 'Temporal Web UI codec (npm start)', ['read']);
  const temporalUiUrl = usesExternalTemporal() ? undefined : `http://localhost:${port(process.env, 'TEMPORAL_UI_PORT', 8233)}`;

  // Temporal.
  let temporal: TestWorkflowEnvironment;
  if (usesExternalTemporal()) {
    temporal = await connectToExternal();
  } else {
    console.log("Obtaining Temporal's official dev server (the first run builds it: about 6 minutes)…");
    await obtainServers();
    temporal = await startDevServer({
      dbFilename: join(folder, 'temporal.db'),
      port: port(process.env, 'TEMPORAL_PORT', 7233),
      uiPort: port(process.env, 'TEMPORAL_UI_PORT', 8233),
      extraArgs: ['--ui-codec-endpoint', `${config.publicUrl}/codec/k/${webUiKey}`],
    });
  }
  stops.add('Temporal', () => temporal.teardown());

  // SMTP: the relay named by SMTP_URL, or a local sink whose messages the web inbox shows.
  let smtpUrl = config.smtpUrl;
  let inbox: Inbox | undefined;
  if (!smtpUrl) {
    const sink: SmtpSink = await startSmtpSink({ port: port(process.env, 'SMTP_SINK_PORT', 2525) });
    stops.add('SMTP sink', () => sink.close());
    inbox = await startInbox({ sink, port: port(process.env, 'INBOX_PORT', 1080), file: join(folder, 'inbox.jsonl') });
    stops.add('inbox', () => inbox!.close());
    smtpUrl = sink.url;
  }

  const worker: WorkerRuntime = await startWorkerRuntime({
    connection: temporal.nativeConnection,
    client: temporal.client,
    pool,
    config: { ...config, databaseUrl, smtpUrl },
    log,
  });
  stops.add('worker', () => worker.stop());
  worker.done.catch((error) => {
    log.error({ err: error }, 'the worker failed; stopping');
    void stopAll(1);
  });

  const codecCorsOrigins = temporalUiUrl ? [...config.codecCorsOrigins, temporalUiUrl] : config.codecCorsOrigins;
  const api: ApiServer = await startApiServer({ config: { ...config, codecCorsOrigins }, pool, client: temporal.client });
  stops.add('API', () => api.close());

  await writeLocalStack({ apiUrl: api.url, apiKey, webUiKey, databaseUrl, inboxUrl: inbox?.url ?? '', temporalUiUrl });

  const campaignId = await loadDemo({ pool, app: api.app, apiKey });

  console.log(`
Nurture is running.
  Dashboard     ${config.publicUrl}/dashboard#key=${apiKey}
  API           ${config.publicUrl}  (docs ${config.publicUrl}/docs, OpenAPI ${config.publicUrl}/openapi.json)
  API key       ${apiKey}  (read/write; also in ${join(dataDir(), 'stack.json')} for the nurture CLI)
  Inbox         ${inbox ? `${inbox.url}  (every email leads and sales reps received)` : `sending through ${smtpUrl.replace(/\/\/[^@/]*@/, '//***@')}`}
  Temporal      ${temporal.address ?? config.temporalAddress}${temporalUiUrl ? `  (Web UI ${temporalUiUrl}, payloads decoded by the API's /codec)` : ''}
  Database      ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}
  Demo campaign ${campaignId}: ${config.publicUrl}/v1/campaigns/${campaignId}
Data are kept in ${dataDir()}/ between runs. Press Ctrl-C to stop.`);
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`);
  await stopAll(1);
}

// The native Temporal handles do not keep Node's event loop alive; this does, until a signal.
setInterval(() => {}, 1 << 30);
