// `npm start`: runs Nurture locally on embedded defaults.
import { mkdir } from 'node:fs/promises';
import { obtainServers, startDevServer } from '../devserver/servers';

const dataDir = process.env.NURTURE_DATA_DIR ?? '.nurture';
await mkdir(dataDir, { recursive: true });
await obtainServers();
const temporal = await startDevServer({ dbFilename: `${dataDir}/temporal.db`, port: 7233, uiPort: 8233 });
console.log(`Temporal dev server: ${temporal.address} (Web UI http://localhost:8233)`);
console.log('Press Ctrl-C to stop.');

// The native server handle does not keep Node's event loop alive; this does, until a signal.
const keepAlive = setInterval(() => {}, 1 << 30);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
clearInterval(keepAlive);
await temporal.teardown();
