// A TypeScript entry point in a process of its own (`node --import tsx`), ready once its stdout
// prints a line matching `ready`: a server a benchmark loads from outside, or a worker a test kills.
import { spawn, type ChildProcess } from 'node:child_process';

export function startTsxProcess(script: string, args: string[], ready: RegExp, nodeOptions: string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited early with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    });
  });
}
