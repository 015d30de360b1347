// Vitest global setup: obtain Temporal's official servers (and Chromium, as root, when missing)
// once, before any test file starts one
// (so that a first run's multi-minute build never runs inside a hook's timeout), and start one
// embedded PostgreSQL for the whole run, in which every test file gets databases of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../devserver/postgres';
import { migrate } from '../../db/migrate';
import { obtainServers } from '../../devserver/temporal';
import { ensureChromium } from './browser';
import { TEMPLATE_DATABASE } from './database';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseServerUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'nurture-test-pg-'));
  const [database] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false }),
    obtainServers(),
    ensureChromium(),
  ]);
  // Every test database is a copy of one migrated template: quicker than migrating each.
  await database.createDatabase(TEMPLATE_DATABASE);
  await migrate(database.urlFor(TEMPLATE_DATABASE));
  project.provide('databaseServerUrl', database.serverUrl);
  return async () => {
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
