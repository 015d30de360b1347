// Public tracking links from emails. The open pixel answers every request with the same GIF
// (a broken image helps nobody) but records an open only for a genuine token of a stored send;
// a click redirects to exactly the URL signed into its token, and a forged or unknown token
// gets a 404 and records nothing. Each engagement is classified human or machine
// (machine-detection.ts) and delivered to the lead's enrolments as email.opened / email.clicked.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sendByMessageKey, type TrackedSend } from '../../db/email-sends';
import { recordEngagement, type EngagementKind } from '../../db/engagements';
import { verifyLink } from '../../mail/link-tokens';
import { HONEYPOT_LINK } from '../../mail/links';
import type { ApiContext } from '../context';
import { ApiError, responses } from '../errors';
import { classifyClick, classifyOpen, type MachineVerdict } from '../machine-detection';

// The smallest transparent 1×1 GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const tokenParams = (name: string) => ({
  type: 'object',
  required: [name],
  properties: { [name]: { type: 'string', minLength: 1, maxLength: 8192 } },
});

// Control characters in a redirect target would be refused by Node as a header anyway.
const SAFE_REDIRECT = /^https?:\/\/[^\s\u0000-\u001f\u007f]+$/i;

export const trackingRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine, links, metrics }) => {
  async function record(request: FastifyRequest, send: TrackedSend, kind: EngagementKind, verdict: MachineVerdict, url: string | null, at: Date) {
    const engagementId = await recordEngagement(pool, {
      sendId: send.id,
      kind,
      url,
      ip: request.ip || null,
      userAgent: request.headers['user-agent']?.slice(0, 1000) ?? null,
      machine: verdict.machine,
      machineReason: verdict.reason,
      at,
    });
    metrics.engagements.labels(kind, String(verdict.machine)).inc();
    if (!send.leadId) return;
    try {
      await engine.deliverEvent(send.leadId, {
        id: `${kind}:${engagementId}`,
        type: kind === 'open' ? 'email.opened' : 'email.clicked',
        at: at.getTime(),
        data: { send_key: send.idempotencyKey, template: send.template, step: send.stepPath, campaign: send.campaignId, url },
        machine: verdict.machine,
      });
    } catch (error) {
      // The engagement is stored; the reader still gets their pixel or redirect.
      request.log.error({ err: error, engagementId }, 'delivering an engagement to the engine failed');
    }
  }

  const context = (request: FastifyRequest, send: TrackedSend, now: Date) => ({
    userAgent: request.headers['user-agent'],
    ip: request.ip,
    sentAt: send.sentAt,
    now,
  });

  app.get<{ Params: { file: string } }>(
    '/t/o/:file',
    {
      schema: {
        tags: ['tracking'],
        summary: 'Open pixel: always a 1×1 GIF; records an open for a genuine token',
        params: tokenParams('file'),
        response: { 200: { type: 'string', format: 'binary' } },
      },
    },
    async (request, reply) => {
      const now = new Date();
      const claims = verifyLink(request.params.file.replace(/\.gif$/, ''), links.secret);
      if (claims?.kind === 'open' && request.method === 'GET') {
        const send = await sendByMessageKey(pool, claims.message);
        if (send && !send.leadErased) await record(request, send, 'open', classifyOpen(context(request, send, now)), null, now);
      }
      return reply
        .header('cache-control', 'no-store, no-cache, must-revalidate, private')
        .header('pragma', 'no-cache')
        .type('image/gif')
        .send(PIXEL);
    },
  );

  app.get<{ Params: { token: string } }>(
    '/t/c/:token',
    {
      schema: {
        tags: ['tracking'],
        summary: 'Click redirect: 302 to the URL signed into the token',
        params: tokenParams('token'),
        response: responses({ 302: { type: 'null', description: 'redirect to the signed URL' } }),
      },
    },
    async (request, reply) => {
      const now = new Date();
      const claims = verifyLink(request.params.token, links.secret);
      if (claims?.kind !== 'click' || !SAFE_REDIRECT.test(claims.url)) throw new ApiError(404, 'not_found', 'unknown link');
      const send = await sendByMessageKey(pool, claims.message);
      if (!send) throw new ApiError(404, 'not_found', 'unknown link');
      // HEAD is a link checker asking whether the link works, not a person following it.
      if (!send.leadErased && request.method === 'GET') {
        const verdict = classifyClick({ ...context(request, send, now), linkIndex: claims.link, honeypotLinks: [HONEYPOT_LINK] });
        await record(request, send, 'click', verdict, claims.url, now);
      }
      return reply.header('cache-control', 'no-store').redirect(claims.url, 302);
    },
  );
};
