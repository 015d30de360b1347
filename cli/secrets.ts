// The secrets of `npm start`: random ones generated on the first run and kept in the data folder
// (readable by the owner only), so that a development machine never signs with a published value
// and links in the sink's emails keep working across restarts. Secrets set in the environment win.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_VARIABLES } from '../runtime/config';

type LocalSecrets = Record<(typeof SECRET_VARIABLES)[number], string>;

export function secretsPath(folder: string): string {
  return join(folder, 'secrets.json');
}

/** The environment with every missing secret filled from `folder`'s secrets file, generated if need be. */
export async function withLocalSecrets(folder: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  const path = secretsPath(folder);
  let stored: Partial<LocalSecrets> = {};
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as Partial<LocalSecrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path} is not readable JSON: ${(error as Error).message}`);
  }
  const secrets = { ...stored } as LocalSecrets;
  let generated = false;
  for (const name of SECRET_VARIABLES) {
    if (secrets[name]) continue;
    secrets[name] = randomBytes(48).toString('base64url');
    generated = true;
  }
  if (generated) {
    await mkdir(folder, { recursive: true });
    await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const name of SECRET_VARIABLES) filled[name] ||= secrets[name];
  return filled;
}
