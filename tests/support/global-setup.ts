// Vitest global setup: obtain Temporal's official servers once, before any test file starts one,
// so that a first run's multi-minute build happens here and never inside a test hook's timeout.
import { obtainServers } from '../../devserver/servers';

export default async function setup(): Promise<void> {
  await obtainServers();
}
