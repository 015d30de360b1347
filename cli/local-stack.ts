// What a running `npm start` tells the `nurture` CLI on the same machine: where the API is, a
// development API key and the embedded database. Written by `npm start` into the data folder,
// read by the CLI as the default for anything not given in the environment.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalStack {
  apiUrl: string;
  /** A read/write key created for the local marketer; never written in production. */
  apiKey: string;
  /** A read key in the codec endpoint the dev server's Web UI is given (it decodes payloads with it). */
  webUiKey?: string;
  databaseUrl: string;
  inboxUrl: string;
  temporalUiUrl?: string;
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NURTURE_DATA_DIR || '.nurture';
}

export function localStackPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'stack.json');
}

export async function writeLocalStack(stack: LocalStack, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await writeFile(localStackPath(env), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
}

/** The running local stack, or undefined when `npm start` has not written one. */
export async function readLocalStack(env: NodeJS.ProcessEnv = process.env): Promise<LocalStack | undefined> {
  try {
    return JSON.parse(await readFile(localStackPath(env), 'utf8')) as LocalStack;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${localStackPath(env)} is not readable JSON: ${(error as Error).message}`);
  }
}
