// Runs the benchmarks in bench/ one after another, each as a child process of its own (a fresh
// heap and JIT, and servers started by one cannot affect the next), its output going straight
// to this terminal. Exits non-zero when any of them failed.
//
//   npm run bench                  every bench
//   npm run bench -- render smtp   only these
//
// Every bench runs with its documented defaults, none of which needs an argument:
//   ab-sequential    1,000 seeded A/B experiments per figure (BENCH_AB_EXPERIMENTS), about 8 minutes
//   dispatch-lag     1,000 events/s for 10 s over 500 enrolled leads (--rate, --seconds, --leads)
//   handoff-latency  200 leads, 10 qualifying events in flight (--leads, --concurrency)
//   ingest           10,000 single events and 50,000 in batches over 500 leads, 32 clients
//   launch           2,000 leads (--leads 10000 for the issue's launch)
//   mailer           5,000 queued emails (--emails)
//   payload-codec    20,000 encrypted round trips of an enrolment's input (--payloads)
//   render           10,000 cached renders, 200 compiled per email
//   sales-desk       1,000 handoffs opened 16 at a time, then one desk round over their reminders (--handoffs, --concurrency)
//   send-backlog     50 leads, 20 minutes of virtual time with no mailer, then the drain
//   simulate         100,000 leads × 90 days
//   smtp             5,000 emails pooled, 1,000 with a connection each (BENCH_SMTP_EMAILS)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
// Arguments per bench, for a bench whose defaults ever need overriding here.
const ARGUMENTS: Record<string, string[]> = {};

const available = readdirSync(BENCH_DIR)
  .filter((file) => file.endsWith('.ts') && file !== basename(fileURLToPath(import.meta.url)))
  .map((file) => file.slice(0, -'.ts'.length))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (available: ${available.join(', ')})`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : available;

// Ctrl-C reaches the running bench too (same process group); it stops its servers, and we wait
// for it rather than leave it behind, then run no further bench. A SIGTERM sent to this process
// alone is passed on.
let child: ReturnType<typeof spawn> | undefined;
let interrupted = false;
process.on('SIGINT', () => void (interrupted = true));
process.on('SIGTERM', () => {
  interrupted = true;
  child?.kill('SIGTERM');
});

const results: { name: string; seconds: number; code: number | string }[] = [];
for (const name of selected) {
  if (interrupted) break;
  const args = ['tsx', join('bench', `${name}.ts`), ...(ARGUMENTS[name] ?? [])];
  console.log(`\n=== ${name}: npx ${args.join(' ')} ===`);
  const started = performance.now();
  const code = await new Promise<number | string>((resolve) => {
    child = spawn('npx', args, { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (error) => resolve(error.message));
    child.on('exit', (exitCode, signal) => resolve(signal ?? exitCode ?? 1));
  });
  child = undefined;
  const seconds = (performance.now() - started) / 1000;
  results.push({ name, seconds, code });
  console.log(`=== ${name}: ${code === 0 ? 'done' : `FAILED (${code})`} in ${seconds.toFixed(1)} s ===`);
}

const failed = results.filter((result) => result.code !== 0);
console.log(`\n${results.length} of ${selected.length} benches run, ${failed.length} failed${failed.length ? `: ${failed.map((result) => result.name).join(', ')}` : ''}${interrupted ? ' (interrupted)' : ''}`);
process.exit(failed.length > 0 || interrupted ? 1 : 0);
