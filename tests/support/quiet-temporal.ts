// Vitest setup file: the SDK's worker logs every planned activity failure and state change at
// INFO/WARN, which buries test output; tests assert on outcomes and histories instead.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'ERROR' | undefined) ?? 'ERROR') });
} catch {
  // Already installed in this process by an earlier test file.
}
