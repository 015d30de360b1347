// The SMTP sink and the transport against each other: real SMTP over a socket, parsed back by mailparser.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { classifySmtpError, createTransport, HeaderInjectionError, type OutgoingMessage, type Transport } from '../../mail/transport';

let sink: SmtpSink;
let transport: Transport;
beforeAll(async () => {
  sink = await startSmtpSink();
  transport = createTransport(sink.url, { pooled: true, maxConnections: 2 });
});
afterEach(() => sink.setFault(undefined));
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
    sink.setFault(({ to }) => (to.includes(refused.to) ? { code: 451, message: '4.3.0 try later' } : undefined));
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

  it('rejects waitFor with a clear error when the condition never holds', async () => {
    await expect(sink.waitFor(() => false, 50)).rejects.toThrow(/condition not met within 50 ms/);
  });
});

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
