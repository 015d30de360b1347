// The SMTP sink alone in a process of its own (smtp-server, messages parsed back by mailparser),
// so that a sender measured against it does not share its event loop. Prints its URL.
// Usage: node --import tsx bench/processes/smtp-sink.ts
import { startSmtpSink } from '../../devserver/smtp-sink';

const sink = await startSmtpSink({ keep: 100 });
process.stdout.write(`listening ${sink.url}\n`);
process.once('SIGTERM', () => void sink.close().then(() => process.exit(0)));
