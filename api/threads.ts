// Work that would hold the event loop — reading a campaign's text, running a simulation — runs in
// worker threads, so the API keeps answering meanwhile (GET /healthz included). A pool keeps up
// to `size` threads, started when first needed and stopped after a while idle; each runs one
// task at a time. A task that exceeds its time limit has its thread terminated (the next task
// gets a fresh one), and so does one that exceeds the thread's memory limit. A task's time runs
// from the moment its thread is ready: starting a thread (loading and transpiling its modules)
// can take seconds on a busy machine, and is not the task's doing.
//
// The process runs TypeScript through tsx (`node --import tsx`, `npx tsx`, vitest), but a worker
// thread does not inherit the loader for its entry module: each thread starts from a line of
// JavaScript that loads the entry with tsx's API (`tsImport`), whatever started the process.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** The task ran longer than its time limit; its thread was terminated. */
export class ThreadTimeout extends Error {}
/** The thread ran out of memory (`outOfMemory`) or stopped unexpectedly during the task. */
export class ThreadFailure extends Error {
  constructor(
    message: string,
    readonly outOfMemory: boolean,
  ) {
    super(message);
  }
}
/** Every thread is taken and the queue is full. */
export class ThreadsBusy extends Error {}

/** What a thread entry receives and answers (see api/campaign-thread.ts). */
export type ThreadRequest = { id: number; task: string; input: unknown };
export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };
/** What a thread entry posts once it listens for tasks (its modules loaded). */
export const THREAD_READY = 'ready';

export interface ThreadPoolOptions {
  /** The thread's module (TypeScript), e.g. new URL('./campaign-thread.ts', import.meta.url). */
  entry: URL;
  /** Threads at most, each running one task at a time. */
  size: number;
  /** Tasks that may wait for a thread; one more is refused with ThreadsBusy. */
  maxQueue: number;
  /** A thread idle this long is stopped. */
  idleMs: number;
  /** A thread not ready this long after it was started is stopped, and its task fails (default 120 s). */
  startupMs?: number;
  resourceLimits?: ResourceLimits;
}

interface Job {
  id: number;
  task: string;
  input: unknown;
  timeoutMs: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** The thread has posted THREAD_READY. */
  ready?: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
  timedOut?: boolean;
  /** Set by the 'error' event before 'exit'. */
  error?: Error;
}

/** tsx's ESM API (`tsImport`), resolved from here so that the thread finds it whatever its working directory. */
const TSX_API = (() => {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports;
  return new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
})();

export class ThreadPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ThreadPoolOptions) {}

  /** Runs `task` on a thread; rejects with ThreadTimeout, ThreadFailure, ThreadsBusy or the task's own error. */
  run<T>(task: string, input: unknown, timeoutMs: number): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the thread pool is closed'));
    const free = [...this.slots].some((slot) => !slot.job) || this.slots.size < this.options.size;
    if (!free && this.queue.length >= this.options.maxQueue) return Promise.reject(new ThreadsBusy('every thread is busy'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, input, timeoutMs, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  /** Stops every thread; tasks running or waiting are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the API is stopping'));
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = [...this.slots].find((candidate) => !candidate.job);
      if (!slot) {
        if (this.slots.size >= this.options.size) return;
        slot = this.start();
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  private start(): Slot {
    const entry = this.options.entry.href;
    const bootstrap = `import(${JSON.stringify(TSX_API)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
    // No execArgv of the parent's (vitest's or tsx's flags): the bootstrap loads tsx itself.
    const worker = new Worker(bootstrap, { eval: true, execArgv: [], resourceLimits: this.options.resourceLimits });
    const slot: Slot = { worker };
    worker.on('message', (reply: ThreadReply | typeof THREAD_READY) => {
      if (reply === THREAD_READY) {
        slot.ready = true;
        if (slot.job) this.startClock(slot, slot.job);
        return;
      }
      const job = slot.job;
      // A reply racing the termination of a thread past its time limit: the task counts as timed out.
      if (!job || reply.id !== job.id || slot.timedOut) return;
      this.finish(slot);
      if (reply.ok) job.resolve(reply.value);
      else job.reject(new Error(reply.message));
      this.idle(slot);
      this.pump();
    });
    worker.on('error', (error) => {
      slot.error = error;
    });
    worker.on('exit', () => {
      this.slots.delete(slot);
      const job = slot.job;
      this.finish(slot);
      if (job) {
        const outOfMemory = (slot.error as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        if (slot.timedOut) job.reject(new ThreadTimeout(`${job.task} took longer than ${job.timeoutMs} ms`));
        else if (!slot.ready && !slot.error) job.reject(new ThreadFailure(`${job.task} stopped: the thread did not start within ${this.startupMs} ms`, false));
        else job.reject(new ThreadFailure(`${job.task} stopped: ${slot.error?.message ?? 'the thread exited'}`, outOfMemory));
      }
      if (!this.closed) this.pump();
    });
    this.slots.add(slot);
    return slot;
  }

  private get startupMs(): number {
    return this.options.startupMs ?? 120_000;
  }

  /** The task is posted at once (the thread reads it once it listens); its time limit runs from when the thread is ready. */
  private assign(slot: Slot, job: Job): void {
    clearTimeout(slot.timer);
    slot.job = job;
    slot.worker.ref();
    if (slot.ready) this.startClock(slot, job);
    else slot.timer = setTimeout(() => void slot.worker.terminate(), this.startupMs);
    slot.worker.postMessage({ id: job.id, task: job.task, input: job.input } satisfies ThreadRequest);
  }

  private startClock(slot: Slot, job: Job): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timedOut = true;
      void slot.worker.terminate();
    }, job.timeoutMs);
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
  }

  /** An idle thread keeps no process alive and stops after idleMs (out of the pool at once: no task goes to a stopping thread). */
  private idle(slot: Slot): void {
    slot.worker.unref();
    slot.timer = setTimeout(() => {
      this.slots.delete(slot);
      void slot.worker.terminate();
    }, this.options.idleMs);
    slot.timer.unref();
  }
}
