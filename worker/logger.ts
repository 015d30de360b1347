// Structured logs (pino, JSON lines) for every Nurture process, and Temporal's own logs routed into them.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Sends the Temporal SDK's logs (worker, workflows, activities) to pino. Call once per process. */
export function routeTemporalLogs(logger: Logger, level: LogLevel = 'INFO'): void {
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      logger[LEVELS[entry.level]]({ ...entry.meta, source: 'temporal' }, entry.message);
    }),
  });
}
