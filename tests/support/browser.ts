// Headless Chromium for the browser tests, driven by playwright-core (which brings no browser of
// its own). Which Chromium: CHROMIUM_PATH, else Debian's /usr/bin/chromium, else `chromium` on
// PATH. Without one the tests fail — never skip — and say how to install it.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const INSTALL_HINT = 'install it with .ci/install-browser (Debian: apt-get install chromium), or set CHROMIUM_PATH to a Chromium executable';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHROMIUM_PATH) {
    // An explicit choice that does not work is an error, not a reason to look elsewhere.
    if (isExecutable(env.CHROMIUM_PATH)) return env.CHROMIUM_PATH;
    throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file; ${INSTALL_HINT}`);
  }
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'chromium');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(`No Chromium found for the browser tests (looked at CHROMIUM_PATH, /usr/bin/chromium and PATH): ${INSTALL_HINT}`);
}

const INSTALL_SCRIPT = fileURLToPath(new URL('../../.ci/install-browser', import.meta.url));

/**
 * Before the tests: as root on a machine without Chromium, installs Debian's (as the test set-up
 * obtains Temporal's servers), so that `npm test` on a fresh machine needs no extra step.
 * Elsewhere a missing Chromium is left for the browser tests to report.
 */
export async function ensureChromium(): Promise<void> {
  try {
    findChromium();
    return;
  } catch (error) {
    if (process.env.CHROMIUM_PATH || process.getuid?.() !== 0) return;
    process.stderr.write(`${(error as Error).message}\nInstalling it with ${INSTALL_SCRIPT}…\n`);
  }
  try {
    await promisify(execFile)(INSTALL_SCRIPT, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`Could not install Chromium for the browser tests with ${INSTALL_SCRIPT}:\n${(error as { stderr?: string }).stderr ?? error}`);
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start; small containers have a tiny /dev/shm.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}
