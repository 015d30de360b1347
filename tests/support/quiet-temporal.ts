// Vitest setup file: the SDK's worker logs every planned activity failure and state change at
// INFO/WARN, which buries test output; tests assert on outcomes and histories instead.
import { quietTemporalLogs } from '../../runtime/temporal-logs';

quietTemporalLogs();
