// A campaign launcher in a process of its own, so a test can kill it with SIGKILL mid-launch.
// Usage: tsx launcher-process.ts <database url> <lease ms>
import { createPool } from '../../db/pool';
import { startLauncher } from '../../worker/launcher';

const [databaseUrl, leaseMs] = process.argv.slice(2);
if (!databaseUrl || !leaseMs) throw new Error('usage: launcher-process.ts <databaseUrl> <leaseMs>');
startLauncher({ pool: createPool(databaseUrl), leaseMs: Number(leaseMs), pollMs: 100 });
process.stdout.write('launcher ready\n');
