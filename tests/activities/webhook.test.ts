// The handoff webhook against real local HTTP servers: a signed delivery, a redirect that is not
// followed (the signed personal data never reaches its target), and failures whose messages name
// the receiver's host only — never WEBHOOK_URL's path, query or credentials, which may be secrets.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookActivity, signWebhook } from '../../activities/webhook';

const SECRET = 'webhook-secret-of-the-webhook-tests-0123456789';
const PATH_SECRET = 'T0KEN-IN-THE-PATH';
const QUERY_SECRET = 'token-in-the-query';
const servers: Server[] = [];

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records what it receives and answers with `answer`. */
async function server(answer: (response: ServerResponse) => void): Promise<{ host: string; received: Received[] }> {
  const received: Received[] = [];
  const http = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(response);
    });
  });
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(http.address() as AddressInfo).port}`, received };
}

afterAll(async () => {
  for (const http of servers) http.closeAllConnections();
  await Promise.all(servers.map((http) => new Promise((resolve) => http.close(resolve))));
});

const secretUrl = (host: string) => `http://${host}/hooks/${PATH_SECRET}?token=${QUERY_SECRET}`;
const delivery = { deliveryId: 'handoff-1/opened', event: 'handoff.opened', payload: { lead: { email: 'aiko@globex.example' }, score: 80 } };

/** The activity's failure, checked to name nothing of the URL but its host. */
async function failure(url: string, host: string, timeoutMs?: number): Promise<Error> {
  const error = await createWebhookActivity({ url, secret: SECRET, timeoutMs })(delivery).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  for (const secret of [PATH_SECRET, QUERY_SECRET, '/hooks', 'token=', 'hook-user-name', 'p4ssw0rd']) expect(error!.message).not.toContain(secret);
  expect(error!.message).toContain(host);
  return error!;
}

describe('postWebhook', () => {
  it('posts the signed delivery', async () => {
    const receiver = await server((response) => response.writeHead(204).end());
    expect(await createWebhookActivity({ url: secretUrl(receiver.host), secret: SECRET })(delivery)).toBe('delivered');
    const [request] = receiver.received;
    expect(request).toMatchObject({ method: 'POST', url: `/hooks/${PATH_SECRET}?token=${QUERY_SECRET}` });
    expect(JSON.parse(request!.body)).toEqual({ event: 'handoff.opened', delivery: 'handoff-1/opened', data: delivery.payload });
    expect(request!.headers['x-nurture-signature']).toBe(signWebhook(request!.body, Number(request!.headers['x-nurture-timestamp']), SECRET));
  });

  it('during a rotation signs with the new and the previous secret, so receivers on either verify it', async () => {
    const receiver = await server((response) => response.writeHead(204).end());
    const previous = 'the-previous-webhook-secret-being-rotated-out';
    expect(await createWebhookActivity({ url: secretUrl(receiver.host), secret: SECRET, previousSecret: previous })(delivery)).toBe('delivered');
    const [request] = receiver.received;
    const timestamp = Number(request!.headers['x-nurture-timestamp']);
    const signatures = String(request!.headers['x-nurture-signature']).split(', ');
    expect(signatures).toEqual([signWebhook(request!.body, timestamp, SECRET), signWebhook(request!.body, timestamp, previous)]);
  });

  it('does not follow a redirect: the target gets nothing, and the delivery fails for good', async () => {
    const target = await server((response) => response.writeHead(200).end());
    for (const status of [301, 302, 303, 307, 308]) {
      const redirecting = await server((response) => response.writeHead(status, { location: `http://${target.host}/collect?stolen=1` }).end());
      const error = await failure(secretUrl(redirecting.host), redirecting.host);
      expect(redirecting.received).toHaveLength(1);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect((error as ApplicationFailure).nonRetryable).toBe(true);
      expect(error.message).toBe(`webhook at ${redirecting.host} answered ${status}, a redirect, which is not followed: set WEBHOOK_URL to where it points`);
      expect(error.message).not.toContain(target.host);
    }
    expect(target.received).toEqual([]);
  });

  it('fails retryably on a 5xx and for good on a 4xx, naming the host only', async () => {
    const broken = await server((response) => response.writeHead(503).end(`upstream at ${PATH_SECRET} is down`));
    const retryable = await failure(secretUrl(broken.host), broken.host);
    expect(retryable).not.toBeInstanceOf(ApplicationFailure);
    expect(retryable.message).toBe(`webhook at ${broken.host} answered 503`);
    const refusing = await server((response) => response.writeHead(404).end());
    const permanent = await failure(secretUrl(refusing.host), refusing.host);
    expect((permanent as ApplicationFailure).nonRetryable).toBe(true);
    expect(permanent.message).toBe(`webhook at ${refusing.host} answered 404`);
  });

  it('says why an unreachable or silent receiver failed, naming the host only', async () => {
    const gone = await server(() => {});
    const closedHost = gone.host;
    const http = servers.pop()!;
    await new Promise((resolve) => http.close(resolve));
    expect((await failure(secretUrl(closedHost), closedHost)).message).toBe(`webhook at ${closedHost} unreachable: ECONNREFUSED`);

    const silent = await server(() => {}); // never answers
    expect((await failure(secretUrl(silent.host), silent.host, 300)).message).toBe(`webhook at ${silent.host} unreachable: no answer within 300 ms`);
  });

  it('refuses a URL with credentials or an invalid URL without quoting it', async () => {
    const receiver = await server((response) => response.writeHead(204).end());
    const withCredentials = await failure(`http://hook-user-name:p4ssw0rd@${receiver.host}/hooks/${PATH_SECRET}?token=${QUERY_SECRET}`, receiver.host);
    expect((withCredentials as ApplicationFailure).nonRetryable).toBe(true);
    expect(receiver.received).toEqual([]);
    const invalid = await createWebhookActivity({ url: `not a url/hooks/${PATH_SECRET}?token=${QUERY_SECRET}`, secret: SECRET })(delivery).catch((e: Error) => e);
    expect(invalid).toBeInstanceOf(ApplicationFailure);
    expect((invalid as Error).message).toBe('WEBHOOK_URL is not a valid URL');
  });

  it('does nothing without a URL', async () => {
    expect(await createWebhookActivity({ secret: SECRET })(delivery)).toBe('not_configured');
  });
});
