// `nurture api-key create --name <name> [--scopes read,write]`: creates an API key directly in
// the database (the API cannot mint its own first key). Only the key's hash is stored, so the
// key is printed once, here.
import { createApiKey, type ApiScope } from '../../db/api-keys';
import { migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { CliError, runCommand } from '../api-client';
import { readLocalStack } from '../local-stack';
import { EXIT, type CommandOutput } from '../exit-codes';

export interface ApiKeyCreateOptions {
  name: string;
  scopes: ApiScope[];
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

async function databaseUrl(env: NodeJS.ProcessEnv): Promise<{ url: string; from: string }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, from: 'DATABASE_URL' };
  let stack;
  try {
    stack = await readLocalStack(env);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
  if (stack?.databaseUrl) return { url: stack.databaseUrl, from: 'the stack file of npm start' };
  throw new CliError('no database: set DATABASE_URL (e.g. postgres://user:password@host:5432/nurture) or run the local stack with npm start', EXIT.unavailable);
}

export async function apiKeyCreateCommand(options: ApiKeyCreateOptions, out: CommandOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runCommand(out, async () => {
    if (!options.name.trim()) throw new CliError('--name must not be empty: name the key after who or what uses it', EXIT.usage);
    const { url, from } = await databaseUrl(env);
    const where = `${redacted(url)} (from ${from})`;
    try {
      // A fresh database gets its tables first; an up-to-date one is left as it is.
      await migrate(url);
    } catch (error) {
      throw new CliError(`cannot prepare the database at ${where}: ${describe(error)}`, EXIT.unavailable);
    }
    const pool = createPool(url, 1);
    let created;
    try {
      created = await createApiKey(pool, options.name, options.scopes);
    } catch (error) {
      throw new CliError(`cannot create the API key in the database at ${where}: ${describe(error)}`, EXIT.unavailable);
    } finally {
      await pool.end();
    }
    out.log(`created API key "${options.name}" (prefix ${created.prefix}, scopes ${[...new Set(options.scopes)].join(', ')}):`);
    out.log(created.key);
    out.log('Store it now: it cannot be shown again (only its hash is kept). Use it as NURTURE_API_KEY or Authorization: Bearer <key>.');
    return EXIT.ok;
  });
}

/** A database error's message, or its code when (as for a refused connection) it has none. */
function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  // A refused connection to localhost is an AggregateError (IPv4 and IPv6) with an empty message.
  return e.message || e.errors?.map((inner) => inner.message).join('; ') || e.code || String(error);
}
