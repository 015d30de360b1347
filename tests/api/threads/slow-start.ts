// A thread entry for tests/api/threads.test.ts. It holds its thread for SLOW_START_MS before it
// listens, as loading and transpiling a large module graph does on a busy machine (it never
// listens when the value is "never"), then answers each task after the milliseconds it asks for.
import { parentPort } from 'node:worker_threads';
import { THREAD_READY, type ThreadRequest } from '../../../api/threads';

const start = process.env.SLOW_START_MS ?? '0';
const busyUntil = Date.now() + (start === 'never' ? 0 : Number(start));
while (Date.now() < busyUntil) {
  // a long module load
}
if (start === 'never') {
  setInterval(() => {}, 1000); // alive, never listening
} else {
  parentPort!.on('message', ({ id, input }: ThreadRequest) => {
    setTimeout(() => parentPort!.postMessage({ id, ok: true, value: 'done' }), input as number);
  });
  parentPort!.postMessage(THREAD_READY);
}
