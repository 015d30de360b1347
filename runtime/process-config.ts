// The configuration and logger of a production process (api/main.ts, worker/main.ts): a
// configuration mistake (a missing secret in production, say) ends the process with one clear
// log line and exit code 1, not a stack trace.
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';

export function processConfig(service: string): { config: Config; log: Logger } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    createLogger(service).fatal((error as Error).message);
    process.exit(1);
  }
  return { config, log: createLogger(service, config.logLevel) };
}
