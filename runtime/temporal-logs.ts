// Where the Temporal SDK's own logs (worker, workflows, activities) go: into the process's pino
// log, or — in tests and benchmarks, which assert on outcomes and print figures — only errors to
// the console. Either installs the SDK's runtime, which can happen once per process.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export function routeTemporalLogs(logger: Logger, level: LogLevel = 'INFO'): void {
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      logger[LEVELS[entry.level]]({ ...entry.meta, source: 'temporal' }, entry.message);
    }),
    // The native core's warnings too (e.g. the server unreachable, retried), into the same log.
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
}

/** Only the SDK's errors (or TEMPORAL_LOG_LEVEL), on the console; a no-op when the runtime is installed already. */
export function quietTemporalLogs(): void {
  try {
    const level = (process.env.TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'ERROR';
    // The native core's retries while a server is away are expected in tests: errors only.
    Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } } });
  } catch {
    // Already installed in this process (by an earlier test file, say).
  }
}
