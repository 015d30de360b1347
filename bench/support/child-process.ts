// A TypeScript entry point in a process of its own (`node --import tsx`), ready once its stdout
// prints a line matching `ready`: a server a benchmark loads from outside, or a worker a test kills.
import { spawn, type ChildProcess } from 'node:child_process';

/** How much of a child's stderr a failure to start quotes. */
const STDERR_TAIL = 4_000;

export function startTsxProcess(script: string, args: string[], ready: RegExp, nodeOptions: string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  // Passed on as it comes, and kept: a process that dies before it is ready says why in the error
  // itself, which a test report always shows (its stderr may be cut from a long log).
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    errors = (errors + chunk.toString()).slice(-STDERR_TAIL);
  });
  return new Promise((resolve, reject) => {
    // 'close', not 'exit': it comes after the pipes are read, so a process that printed its ready
    // line and died at once is seen as ready (the caller watches it from then on).
    child.once('close', (code, signal) => reject(new Error(`${script} exited before it was ready (${signal ?? `code ${code}`}); its stderr ended with:\n${errors || '(nothing)'}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    });
  });
}

/** Kills a child with SIGKILL and resolves once it has exited (at once if it already has). */
export function killProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
