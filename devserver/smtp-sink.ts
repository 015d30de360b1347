// A real SMTP server that keeps what it receives: the sink of tests, benchmarks and `npm
// start`'s web inbox. Faults can be injected (e.g. 451 for a while, 550 for one address) to
// prove retries and bounces, and the server can stall (connections accepted, nothing answered)
// to prove what a slow or hung SMTP relay does to the sender.
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  messageId: string;
  from: string;
  /** The envelope recipients (RCPT TO) that were accepted. */
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** Header names lower-cased; values as their raw (unfolded) text. */
  headers: Record<string, string>;
  receivedAt: number;
  raw?: never;
}

export interface SmtpFault {
  code: number;
  message: string;
  /**
   * When the sink answers with it: 'data' (default) refuses the whole message after its
   * content arrived; 'rcpt' refuses just that recipient at RCPT TO.
   */
  stage?: 'rcpt' | 'data';
}

/**
 * Consulted once per recipient, at RCPT TO, with that recipient alone in `to` (a single
 * recipient message therefore gets exactly one decision). undefined = accept.
 */
export type FaultRule = (envelope: { from: string; to: string[] }) => SmtpFault | undefined;

export interface SmtpSink {
  port: number;
  /** smtp://127.0.0.1:<port> */
  url: string;
  /** In arrival order. */
  messages: ReceivedMessage[];
  setFault(decide: FaultRule | undefined): void;
  /**
   * Stalls for `ms` from now (0 ends a stall at once; a new call replaces the running stall):
   * connections are accepted, but the greeting and the replies to MAIL FROM, RCPT TO and the end
   * of a message are held until the stall ends, then sent as usual. A message whose sender hung
   * up while waiting is not kept (nothing is delivered to a sender that gave up). A client still
   * waiting for its greeting after 60 s gets smtp-server's idle-timeout 421 instead.
   */
  setStall(ms: number): void;
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

function smtpError(fault: SmtpFault): Error {
  return Object.assign(new Error(fault.message), { responseCode: fault.code });
}

export async function startSmtpSink(options: { port?: number; host?: string; keep?: number } = {}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const keep = options.keep ?? 100_000;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`startSmtpSink: keep must be a positive integer, got ${keep}`);
  const messages: ReceivedMessage[] = [];
  const listeners = new Set<(message: ReceivedMessage) => void>();
  let fault: FaultRule | undefined;
  let connectionCount = 0;
  /** A fault decided at RCPT TO but answered after DATA, per SMTP session. */
  const dataFaults = new Map<string, SmtpFault>();
  /** Sessions whose connection is still open: a reply held by a stall is useless once it closed. */
  const openSessions = new Set<string>();
  /** While stalled, replies wait here; they go out in order when the stall ends. */
  let stalled = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const held: (() => void)[] = [];
  /** Answers now, or when the stall ends (late = true). */
  const answer = (reply: (late: boolean) => void) => (stalled ? void held.push(() => reply(true)) : reply(false));
  function endStall() {
    clearTimeout(stallTimer);
    stallTimer = undefined;
    stalled = false;
    for (const reply of held.splice(0)) reply();
  }
  /** Messages are parsed in parallel but published in arrival order along this chain. */
  let published: Promise<void> = Promise.resolve();

  const mailFrom = (session: SMTPServerSession) => (session.envelope.mailFrom ? session.envelope.mailFrom.address : '');

  function publish(message: ReceivedMessage) {
    messages.push(message);
    if (messages.length > keep) messages.splice(0, messages.length - keep);
    for (const listener of listeners) listener(message);
  }

  async function parse(raw: Buffer, envelope: { from: string; to: string[] }): Promise<ReceivedMessage> {
    // Only what tests and the inbox read: no derived bodies or link detection.
    const parsed = await simpleParser(raw, { skipHtmlToText: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
    const headers: Record<string, string> = {};
    for (const line of parsed.headerLines) headers[line.key] = line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    return {
      messageId: parsed.messageId ?? '',
      from: addresses(parsed.from)[0] ?? envelope.from,
      to: envelope.to,
      subject: parsed.subject ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      text: parsed.text ?? '',
      headers,
      receivedAt: Date.now(),
    };
  }

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    disableReverseLookup: true, // a DNS lookup per connection would only slow tests down
    size: 10 * 1024 * 1024,
    // close() tells idle pooled clients 421 after this long instead of waiting 30 s for them.
    closeTimeout: 200,
    onConnect(session, callback) {
      connectionCount++;
      openSessions.add(session.id);
      answer(() => callback()); // the greeting
    },
    onMailFrom(_address, session, callback) {
      answer(() => {
        dataFaults.delete(session.id);
        callback();
      });
    },
    onRcptTo(address: SMTPServerAddress, session, callback) {
      answer(() => {
        const decided = fault?.({ from: mailFrom(session), to: [address.address] });
        if (decided?.stage === 'rcpt') return callback(smtpError(decided));
        if (decided && !dataFaults.has(session.id)) dataFaults.set(session.id, decided);
        callback();
      });
    },
    onClose(session) {
      openSessions.delete(session.id);
      dataFaults.delete(session.id);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () =>
        answer((late) => {
          const refused = dataFaults.get(session.id);
          dataFaults.delete(session.id);
          // Its sender gave up waiting for the stalled reply and will send it again: keeping this
          // copy would deliver it twice.
          if (late && !openSessions.has(session.id)) return callback(smtpError({ code: 421, message: '4.4.2 the sender hung up during a stall' }));
          if (refused) return callback(smtpError(refused)); // refused messages are not kept
          if ((stream as { sizeExceeded?: boolean }).sizeExceeded) return callback(smtpError({ code: 552, message: '5.3.4 message too big' }));
          const envelope = { from: mailFrom(session), to: session.envelope.rcptTo.map((rcpt) => rcpt.address) };
          // Answer 250 at once and parse afterwards, so parsing never slows the sender down;
          // waitFor and onMessage only see a message once it is parsed and in `messages`.
          const parsing = parse(Buffer.concat(chunks), envelope);
          published = published.then(() =>
            parsing.then(publish, (error: Error) => {
              process.emitWarning(`SMTP sink: could not parse a received message: ${error.message}`);
            }),
          );
          callback();
        }),
      );
    },
  });
  server.on('error', () => {}); // a client dropping its connection is not the sink's problem

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `smtp://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    messages,
    setFault(decide) {
      fault = decide;
    },
    setStall(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`SMTP sink: setStall expects a duration in ms >= 0, got ${ms}`);
      if (ms === 0) return endStall();
      clearTimeout(stallTimer);
      stalled = true;
      stallTimer = setTimeout(endStall, ms);
    },
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(messages)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`SMTP sink: condition not met within ${timeoutMs} ms (${messages.length} messages received)`));
        }, timeoutMs);
        listeners.add(check);
      });
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connections: () => connectionCount,
    async close() {
      // Held replies are dropped: their connections are closed with the server.
      clearTimeout(stallTimer);
      stalled = false;
      held.length = 0;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await published;
    },
  };
}
