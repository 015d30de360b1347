// Headless Chromium for the browser tests, driven by playwright-core (which brings no browser of
// its own). Which Chromium: CHROMIUM_PATH, else Debian's /usr/bin/chromium, else `chromium` on
// PATH. Without one the tests fail — never skip — and say how to install it.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
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

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start; small containers have a tiny /dev/shm.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}
