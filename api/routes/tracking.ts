// Public tracking links from emails. The open pixel answers every request with the same GIF
// (a broken image helps nobody) but records an open only for a genuine token of a stored send;
// a click redirects to exactly the URL signed into its token, and a forged or unknown token
// gets a 404 and records nothing. Each engagement is classified human or machine
// (machine-detection.ts) and stored as email.opened / email.clicked for the dispatcher to deliver
// to the lead's enrolments. A token seen again within REPEAT_WINDOW_MS (a mail client refetching,
// a double click, a replaying script) records nothing more: the first time stands.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sendByMessageKey, type TrackedSend } from '../../db/email-sends';
import { recordEngagement, type EngagementKind } from '../../db/engagements';
import { storeTrackedEvent } from '../../db/events';
import { verifyLink } from '../../mail/link-tokens';
import { verifyingSecrets } from '../../mail/links';
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

export const REPEAT_WINDOW_MS = 30_000;

export const trackingRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, links, metrics }) => {
  /**
   * Stores the engagement and its event in one transaction, unless the same token was recorded
   * within REPEAT_WINDOW_MS; the dispatcher delivers the event to the lead's enrolments.
   */
  async function record(request: FastifyRequest, token: string, send: TrackedSend, kind: EngagementKind, verdict: MachineVerdict, url: string | null, at: Date) {
    const stored = await storeTrackedEvent(pool, `${kind}:${token}`, REPEAT_WINDOW_MS, async (tx) => {
      const engagementId = await recordEngagement(tx, {
        sendId: send.id,
        kind,
        url,
        ip: request.ip || null,
        userAgent: request.headers['user-agent']?.slice(0, 1000) ?? null,
        machine: verdict.machine,
        machineReason: verdict.reason,
        at,
      });
      // Opens and clicks of sales mail (no lead) are kept as engagements only.
      if (!send.leadId) return null;
      return {
        externalId: `${kind}:${engagementId}`,
        leadId: send.leadId,
        type: kind === 'open' ? 'email.opened' : 'email.clicked',
        occurredAt: at,
        data: { send_key: send.idempotencyKey, template: send.template, step: send.stepPath, campaign: send.campaignId, url },
        machine: verdict.machine,
      };
    });
    metrics.engagements.labels(kind, String(verdict.machine), stored ? 'stored' : 'repeat').inc();
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
      const claims = verifyLink(request.params.file.replace(/\.gif$/, ''), verifyingSecrets(links));
      if (claims?.kind === 'open' && request.method === 'GET') {
        const send = await sendByMessageKey(pool, claims.message);
        if (send && !send.leadErased) await record(request, request.params.file, send, 'open', classifyOpen(context(request, send, now)), null, now);
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
      const claims = verifyLink(request.params.token, verifyingSecrets(links));
      if (claims?.kind !== 'click' || !SAFE_REDIRECT.test(claims.url)) throw new ApiError(404, 'not_found', 'unknown link');
      const send = await sendByMessageKey(pool, claims.message);
      if (!send) throw new ApiError(404, 'not_found', 'unknown link');
      // HEAD is a link checker asking whether the link works, not a person following it.
      if (!send.leadErased && request.method === 'GET') {
        const verdict = classifyClick({ ...context(request, send, now), linkIndex: claims.link, honeypotLinks: [HONEYPOT_LINK] });
        await record(request, request.params.token, send, 'click', verdict, claims.url, now);
      }
      return reply.header('cache-control', 'no-store').redirect(claims.url, 302);
    },
  );
};
