// LISTEN on a channel over a connection of its own, reconnecting with backoff whenever the
// database goes away. Each notification, and each (re)connection — whatever was notified while
// nobody listened — calls `wake`.
import pg from 'pg';

export interface ListenerLog {
  warn(object: object, message?: string): void;
}

export interface Listener {
  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void>;
}

export function listen(options: { databaseUrl: string; channel: string; wake: () => void; log: ListenerLog }): Listener {
  const { channel, wake, log } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`listen: channel must be a plain identifier, got ${JSON.stringify(channel)}`);
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  const sleep = (ms: number) => Promise.race([new Promise((resolve) => setTimeout(resolve, ms).unref()), stopped]);

  async function run() {
    for (let delay = 100; !stopping.signal.aborted; delay = Math.min(delay * 2, 5_000)) {
      const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
      // Listening before connect: an error during connect must not crash the process.
      const lost = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      try {
        client.on('notification', wake);
        await client.connect();
        await client.query(`LISTEN ${channel}`);
        delay = 50; // connected: the next loss retries quickly again
        wake();
        await Promise.race([lost, stopped]);
        if (!stopping.signal.aborted) log.warn({ channel }, 'lost the LISTEN connection; reconnecting');
      } catch (error) {
        if (!stopping.signal.aborted) log.warn({ err: error, channel }, 'could not LISTEN; retrying');
      }
      await client.end().catch(() => {});
      await sleep(delay);
    }
  }
  const running = run();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
