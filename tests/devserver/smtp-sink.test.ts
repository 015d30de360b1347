// The SMTP sink and the transport against each other: real SMTP over a socket, parsed back by mailparser.
import { connect } from 'node:net';
import nodemailer, { type TransportOptions } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { classifySmtpError, createTransport, HeaderInjectionError, type OutgoingMessage, type Transport } from '../../mail/transport';

let sink: SmtpSink;
let transport: Transport;
beforeAll(async () => {
  sink = await startSmtpSink();
  transport = createTransport(sink.url, { pooled: true, maxConnections: 2 });
});
afterEach(() => {
  sink.setFault(undefined);
  sink.setStall(0);
});
afterAll(async () => {
  transport?.close();
  await sink?.close();
});

let serial = 0;
function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  serial++;
  return {
    from: 'Acme Marketing <marketing@acme.example>',
    to: `lead${serial}@example.com`,
    subject: `Your guide is ready — #${serial}`,
    html: `<p>Hello <b>number ${serial}</b></p>`,
    text: `Hello number ${serial}`,
    headers: { 'List-Unsubscribe': `<https://nurture.example/u/${serial}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Nurture-Send': String(serial) },
    messageId: `<key${serial}.${Date.now()}@nurture.example>`,
    ...overrides,
  };
}

describe('SMTP sink', () => {
  it('parses a delivered message back with its headers, bodies and exact Message-ID', async () => {
    const sent = message();
    const info = await transport.send(sent);
    expect(info.response).toMatch(/^250\b/);
    expect(info.messageId).toBe(sent.messageId);
    await sink.waitFor((all) => all.some((m) => m.messageId === sent.messageId), 5_000);
    const got = sink.messages.find((m) => m.messageId === sent.messageId)!;
    expect(got.from).toBe('marketing@acme.example');
    expect(got.to).toEqual([sent.to]);
    expect(got.subject).toBe(sent.subject);
    expect(got.html).toContain(`<b>number ${serial}</b>`);
    expect(got.text.trim()).toBe(sent.text);
    expect(got.headers['message-id']).toBe(sent.messageId);
    expect(got.headers['list-unsubscribe']).toBe(sent.headers['List-Unsubscribe']);
    expect(got.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(got.headers['x-nurture-send']).toBe(sent.headers['X-Nurture-Send']);
  });

  it('keeps messages in arrival order, tells listeners, and caps what it keeps', async () => {
    const small = await startSmtpSink({ keep: 3 });
    const sender = createTransport(small.url, { pooled: false });
    const heard: string[] = [];
    const unsubscribe = small.onMessage((m) => heard.push(m.messageId));
    try {
      const sent = [message(), message(), message(), message(), message()];
      for (const m of sent) await sender.send(m); // one after another: arrival order is send order
      await small.waitFor(() => heard.length === 5, 5_000);
      expect(heard).toEqual(sent.map((m) => m.messageId));
      expect(small.messages.map((m) => m.messageId)).toEqual(sent.slice(2).map((m) => m.messageId));
      expect(small.connections()).toBe(5); // not pooled: one connection per email
      unsubscribe();
      await sender.send(message());
      await small.waitFor((all) => all.length === 3 && all[2]!.messageId !== sent[4]!.messageId, 5_000);
      expect(heard).toHaveLength(5);
    } finally {
      sender.close();
      await small.close();
    }
  });

  it('refuses a message with an injected fault after DATA: the sender gets the code, nothing is stored', async () => {
    const refused = message();
    sink.setFault(({ to }) => (to.includes(refused.to as string) ? { code: 451, message: '4.3.0 try later' } : undefined));
    const error = await transport.send(refused).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 451, command: 'DATA' });
    expect(classifySmtpError(error)).toMatchObject({ class: 'deferred', code: 451 });
    const accepted = message();
    await transport.send(accepted);
    await sink.waitFor((all) => all.some((m) => m.messageId === accepted.messageId), 5_000);
    expect(sink.messages.some((m) => m.messageId === refused.messageId)).toBe(false);
  });

  it('refuses one recipient at RCPT TO: a 550 there is a bounce', async () => {
    const refused = message();
    sink.setFault(({ to }) => (to[0] === refused.to ? { code: 550, message: '5.1.1 mailbox unavailable', stage: 'rcpt' } : undefined));
    const error = await transport.send(refused).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 550, command: 'RCPT TO' });
    expect(classifySmtpError(error)).toMatchObject({ class: 'bounced', code: 550 });
    expect(sink.messages.some((m) => m.messageId === refused.messageId)).toBe(false);
  });

  it('is reached over few connections by the pooled transport', async () => {
    const pooledSink = await startSmtpSink();
    const pooled = createTransport(pooledSink.url, { maxConnections: 2 });
    try {
      await Promise.all(Array.from({ length: 20 }, () => pooled.send(message())));
      await pooledSink.waitFor((all) => all.length === 20, 5_000);
      expect(pooledSink.connections()).toBeLessThanOrEqual(2);
      expect(new Set(pooledSink.messages.map((m) => m.messageId)).size).toBe(20);
    } finally {
      pooled.close();
      await pooledSink.close();
    }
  });

  it('stalls: connections are accepted but answered only when the stall ends; a sender that gave up delivered nothing', async () => {
    const stalledAt = Date.now();
    sink.setStall(1_500);
    const before = sink.connections();
    // One sender gives up long before the stall ends (a short greeting timeout), one waits it out.
    const impatient = nodemailer.createTransport({ url: sink.url, greetingTimeout: 300, socketTimeout: 300 } as TransportOptions);
    const patient = createTransport(sink.url, { pooled: false });
    try {
      const gaveUp = message();
      const waited = message();
      const [error, info] = await Promise.all([impatient.sendMail(gaveUp).then(() => undefined, (e: unknown) => e), patient.send(waited)]);
      expect(error).toMatchObject({ code: 'ETIMEDOUT' });
      expect(classifySmtpError(error).class).toBe('deferred');
      expect(info.response).toMatch(/^250\b/);
      expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(1_450);
      expect(sink.connections() - before).toBe(2); // both were accepted
      await sink.waitFor((all) => all.some((m) => m.messageId === waited.messageId), 5_000);
      expect(sink.messages.some((m) => m.messageId === gaveUp.messageId)).toBe(false);
    } finally {
      impatient.close();
      patient.close();
    }
    expect(() => sink.setStall(-1)).toThrow(/setStall expects a duration/);
  });

  it('holds the reply to a message whose content arrived during a stall: kept if its sender waited, not if it hung up', async () => {
    const waited = await smtpDialog(sink.port);
    const hungUp = await smtpDialog(sink.port);
    const ids = { waited: `<waited.${Date.now()}@nurture.example>`, hungUp: `<hung-up.${Date.now()}@nurture.example>` };
    for (const client of [waited, hungUp]) {
      for (const command of ['EHLO drill', 'MAIL FROM:<marketing@acme.example>', 'RCPT TO:<lead@example.com>']) expect(await client.command(command)).toMatch(/^250 /);
      expect(await client.command('DATA')).toMatch(/^354 /);
    }
    sink.setStall(60_000);
    const replies = [waited, hungUp].map((client) => {
      client.write(`Message-ID: ${client === waited ? ids.waited : ids.hungUp}\r\nSubject: stalled\r\n\r\nHello\r\n.\r\n`);
      return client.reply();
    });
    const silence = new Promise((resolve) => setTimeout(() => resolve('no reply'), 300));
    expect(await Promise.race([...replies, silence])).toBe('no reply');
    await hungUp.hangUp();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the sink hears of it a moment later
    sink.setStall(0);
    expect(await replies[0]).toMatch(/^250 /);
    await waited.hangUp();
    // Published in the order the held replies went out: a message sent after them comes last.
    const after = message();
    await transport.send(after);
    await sink.waitFor((all) => all.some((m) => m.messageId === after.messageId), 5_000);
    expect(sink.messages.some((m) => m.messageId === ids.waited)).toBe(true);
    expect(sink.messages.some((m) => m.messageId === ids.hungUp)).toBe(false);
  });

  it('rejects waitFor with a clear error when the condition never holds', async () => {
    await expect(sink.waitFor(() => false, 50)).rejects.toThrow(/condition not met within 50 ms/);
  });
});

/** A raw SMTP client, for steps no mail library lets a test take one at a time. */
async function smtpDialog(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let wake = () => {};
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    wake();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  /** The next complete reply (its last line is "NNN text"), without its continuation lines. */
  async function reply(): Promise<string> {
    for (;;) {
      const last = /^\d{3} .*\r\n/m.exec(received);
      if (last) {
        received = received.slice(last.index + last[0].length);
        return last[0];
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  expect(await reply()).toMatch(/^220 /);
  return {
    reply,
    write: (text: string) => socket.write(text),
    command: (line: string) => {
      socket.write(`${line}\r\n`);
      return reply();
    },
    /** Closes the connection and waits until it is closed. */
    hangUp: () => {
      socket.destroy();
      return closed;
    },
  };
}

describe('transport', () => {
  it.each([
    ['subject', { subject: 'Hi\r\nBcc: victim@example.com' }],
    ['to', { to: 'lead@example.com\nBcc: victim@example.com' }],
    ['from', { from: 'a@acme.example\rX-Evil: 1' }],
    ['header X-Tag', { headers: { 'X-Tag': 'ok\r\nBcc: victim@example.com' } }],
    ['header name', { headers: { 'X-Tag\r\nBcc': 'victim@example.com' } }],
    ['messageId', { messageId: '<a@b>\r\nBcc: victim@example.com' }],
  ] as const)('refuses a line break in %s before anything is sent', async (where, overrides) => {
    const before = sink.connections();
    const count = sink.messages.length;
    const error = await transport.send(message(overrides as Partial<OutgoingMessage>)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HeaderInjectionError);
    expect((error as Error).message).toContain(where.split(' ')[0]);
    expect(classifySmtpError(error).class).toBe('failed');
    expect(sink.messages.length).toBe(count);
    expect(sink.connections()).toBe(before);
  });

  it('refuses a Message-ID that is not <key@domain>', async () => {
    await expect(transport.send(message({ messageId: 'no-brackets@x' }))).rejects.toThrow(/messageId must look like <key@domain>/);
  });

  it('refuses a URL that is not SMTP', () => {
    expect(() => createTransport('http://localhost:25')).toThrow(/smtp:\/\/ or smtps:\/\/ URL/);
  });

  it('reports an unreachable server as deferred', async () => {
    const closed = await startSmtpSink();
    const url = closed.url;
    await closed.close();
    const sender = createTransport(url, { pooled: false });
    const error = await sender.send(message()).then(() => undefined, (e: unknown) => e);
    sender.close();
    expect(String((error as Error).message)).toMatch(/ECONNREFUSED/);
    expect(classifySmtpError(error).class).toBe('deferred');
  });

  it('bounces an address nodemailer refuses as malformed', async () => {
    const error = await transport.send(message({ to: 'not an address' })).then(() => undefined, (e: unknown) => e);
    expect(error).toBeDefined();
    expect(classifySmtpError(error).class).toBe('bounced');
  });
});

describe('classifySmtpError', () => {
  const reply = (code: number, text: string, command = 'RCPT TO') =>
    Object.assign(new Error(`Can't send mail: ${code} ${text}`), { code: 'EENVELOPE', responseCode: code, response: `${code} ${text}`, command });
  it.each([
    [reply(421, '4.7.0 too many connections', 'CONN'), 'deferred'],
    [reply(450, '4.2.1 mailbox busy'), 'deferred'],
    [reply(451, '4.3.0 try later', 'DATA'), 'deferred'],
    [reply(452, '4.5.3 too many recipients'), 'deferred'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNECTION' }), 'deferred'],
    [Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' }), 'deferred'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ESOCKET' }), 'deferred'],
    [Object.assign(new Error('Invalid greeting'), { code: 'EPROTOCOL' }), 'deferred'],
    [reply(550, '5.1.1 user unknown'), 'bounced'],
    [reply(551, '5.1.6 user not local'), 'bounced'],
    [reply(553, '5.1.3 bad address syntax'), 'bounced'],
    [reply(554, '5.1.10 null MX'), 'bounced'],
    [Object.assign(new Error('No recipients defined'), { code: 'EENVELOPE' }), 'bounced'],
    [reply(552, '5.3.4 message too big', 'DATA'), 'failed'],
    [reply(554, '5.7.1 message refused as spam', 'DATA'), 'failed'],
    [reply(535, '5.7.8 authentication failed', 'AUTH PLAIN'), 'failed'],
    [new HeaderInjectionError('subject contains a line break'), 'failed'],
  ] as const)('%s → %s', (error, expected) => {
    const verdict = classifySmtpError(error);
    expect(verdict.class).toBe(expected);
    expect(verdict.code).toBe((error as { responseCode?: number }).responseCode);
    expect(verdict.message.length).toBeGreaterThan(0);
  });
});
