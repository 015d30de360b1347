// A real SMTP server that keeps what it receives: the sink of tests, benchmarks and `npm
// start`'s web inbox. Faults can be injected per message (e.g. 451 for a while, 550 for one
// address) to prove retries and bounces.
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** Header names lower-cased; structured values as their raw text. */
  headers: Record<string, string>;
  receivedAt: number;
}

export interface SmtpFault {
  code: number;
  message: string;
}

export type FaultRule = (envelope: { from: string; to: string[] }) => SmtpFault | undefined;

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMessage[];
  setFault(rule: FaultRule | undefined): void;
  waitFor(predicate: (messages: ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  onMessage(listener: (message: ReceivedMessage) => void): () => void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((group) => group.value.map((entry) => entry.address ?? '')).filter(Boolean);
}

export async function startSmtpSink(options: { port?: number; host?: string; keep?: number } = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const listeners = new Set<(message: ReceivedMessage) => void>();
  let fault: FaultRule | undefined;
  let connectionCount = 0;
  const keep = options.keep ?? 100_000;

  const envelopeOf = (session: SMTPServerSession) => ({
    from: (session.envelope.mailFrom as SMTPServerAddress | false) ? (session.envelope.mailFrom as SMTPServerAddress).address : '',
    to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
  });
  const smtpError = (f: SmtpFault) => Object.assign(new Error(f.message), { responseCode: f.code });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, callback) {
      connectionCount++;
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = envelopeOf(session);
        const refused = fault?.(envelope);
        if (refused) return callback(smtpError(refused));
        // Parse before answering, so a message is in `messages` by the time the sender sees 250.
        simpleParser(Buffer.concat(chunks))
          .then((parsed) => {
            const headers: Record<string, string> = {};
            for (const line of parsed.headerLines) headers[line.key] = line.line.slice(line.line.indexOf(':') + 1).trim();
            const message: ReceivedMessage = {
              messageId: parsed.messageId ?? '',
              from: addresses(parsed.from)[0] ?? envelope.from,
              to: envelope.to,
              subject: parsed.subject ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              text: parsed.text ?? '',
              headers,
              receivedAt: Date.now(),
            };
            messages.push(message);
            if (messages.length > keep) messages.splice(0, messages.length - keep);
            for (const listener of listeners) listener(message);
            callback();
          })
          .catch((error: Error) => callback(smtpError({ code: 554, message: `unparseable message: ${error.message}` })));
      });
    },
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    setFault(rule) {
      fault = rule;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(messages)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`SMTP sink: condition not met within ${timeoutMs} ms (${messages.length} messages received)`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      });
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connections: () => connectionCount,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
