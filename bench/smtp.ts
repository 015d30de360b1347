// SMTP delivery speed into a local sink: the pooled transport (a few connections kept open, a
// few sends in flight) against the baseline measured in the same run — a new connection per
// email, as a mailer without pooling would do. Each new connection pays smtp-server's 100 ms
// greeting delay (its early-talker check), much like a real MTA's greeting and TLS setup.
import { fileURLToPath } from 'node:url';
import { startSmtpSink, type SmtpSink } from '../devserver/smtp-sink';
import { createTransport, type OutgoingMessage, type Transport } from '../mail/transport';

function email(n: number): OutgoingMessage {
  return {
    from: 'Acme Marketing <marketing@acme.example>',
    to: `lead${n}@example.com`,
    subject: `Your guide is ready (${n})`,
    html: `<p>Hello, here is <a href="https://acme.example/guide?n=${n}">your guide</a>.</p>`,
    text: `Hello, here is your guide: https://acme.example/guide?n=${n}`,
    headers: { 'List-Unsubscribe': `<https://nurture.example/u/${n}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    messageId: `<bench${n}.${process.pid}@nurture.example>`,
  };
}

/** Sends `count` emails, `inFlight` at a time, each through `transportFor(n)`; returns emails per second. */
async function measure(sink: SmtpSink, count: number, inFlight: number, transportFor: (n: number) => Transport, closeEach: boolean) {
  const connectionsBefore = sink.connections();
  const receivedBefore = sink.messages.length;
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const n = next++;
        const transport = transportFor(n);
        try {
          await transport.send(email(n));
        } finally {
          if (closeEach) transport.close();
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await sink.waitFor((all) => all.length - receivedBefore >= count, 30_000); // all arrived and parsed
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6; // sender and sink together, parsing included
  return { rate: count / seconds, perCpuSecond: count / cpuSeconds, cpuShare: cpuSeconds / seconds, connections: sink.connections() - connectionsBefore };
}

export async function main(): Promise<void> {
  const pooledCount = Number(process.env.BENCH_SMTP_EMAILS ?? 5_000);
  const baselineCount = Math.max(100, Math.round(pooledCount / 5));
  const inFlight = 8;
  const sink = await startSmtpSink({ keep: pooledCount + baselineCount + 1_000 });
  try {
    const warm = createTransport(sink.url, { maxConnections: 5 });
    await measure(sink, 300, inFlight, () => warm, false); // warm-up: JIT, sockets, parser
    warm.close();

    const pooled = createTransport(sink.url, { maxConnections: 5 });
    const withPool = await measure(sink, pooledCount, inFlight, () => pooled, false);
    pooled.close();
    const perEmail = await measure(sink, baselineCount, inFlight, () => createTransport(sink.url, { pooled: false }), true);

    const fmt = (n: number) => Math.round(n).toLocaleString('en');
    const line = (label: string, r: typeof withPool, count: number) =>
      `  ${label} ${fmt(r.rate)} emails/s over ${fmt(count)} emails, ${fmt(r.connections)} sink connections` +
      ` (${fmt(r.perCpuSecond)} emails per CPU-second; this process had ${(r.cpuShare * 100).toFixed(0)}% of a core)`;
    console.log(`SMTP delivery into a local sink (nodemailer → smtp-server + mailparser in this process), ${inFlight} sends in flight`);
    console.log(line('pooled, 5 connections:        ', withPool, pooledCount));
    console.log(line('baseline, connection per email:', perEmail, baselineCount));
    console.log(`  ratio pooled / per-email: ${(withPool.rate / perEmail.rate).toFixed(1)}×  (target: pooled ≥ 2,000 emails/s: ${withPool.rate >= 2_000 ? 'met' : 'NOT met'})`);
  } finally {
    await sink.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
