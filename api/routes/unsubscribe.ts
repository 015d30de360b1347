// Unsubscribe (public). RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` (as a
// multipart or url-encoded form) to the List-Unsubscribe URL; the visible page (GET) only shows
// a button that POSTs the same, so a link scanner's GET changes nothing. Unsubscribing withdraws consent for the email's
// purpose and suppresses the address for good, and is idempotent: the withdrawal is stored as
// the event `unsubscribe:<message key>` (delivered by the dispatcher), so a second POST records
// nothing new.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { recordConsent } from '../../db/consent';
import { sendByMessageKey } from '../../db/email-sends';
import { storeEvents } from '../../db/events';
import { inTransaction } from '../../db/pool';
import { suppressHash } from '../../db/suppressions';
import { verifyLink } from '../../mail/link-tokens';
import { verifyingSecrets } from '../../mail/links';
import type { ApiContext } from '../context';
import { readMultipartFields } from '../one-click-form';
import { confirmForm, htmlPageSchema, sendPage } from '../pages';

const params = { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } } };
const DEFAULT_PURPOSE = 'marketing_email';

export const unsubscribeRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine, links }) => {
  await app.register(formbody, { bodyLimit: 4096 });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4096 }, (request, body, done) => {
    const fields = readMultipartFields(body as string, request.headers['content-type'] ?? '');
    done(fields ? null : Object.assign(new Error('multipart body without a boundary'), { statusCode: 400 }), fields);
  });

  async function sendFor(token: string) {
    const claims = verifyLink(token, verifyingSecrets(links));
    if (claims?.kind !== 'unsubscribe') return undefined;
    const send = await sendByMessageKey(pool, claims.message);
    return send && send.leadId === claims.lead ? { send, messageKey: claims.message } : undefined;
  }

  const unknown = (reply: FastifyReply) =>
    sendPage(reply, 404, 'Link not recognised', '<p>This unsubscribe link is not valid. Please use the link from the most recent email.</p>');

  app.get<{ Params: { token: string } }>(
    '/u/:token',
    { schema: { tags: ['unsubscribe'], summary: 'Unsubscribe page (changes nothing)', params, response: { 200: htmlPageSchema, 404: htmlPageSchema } } },
    async (request, reply) => {
      if (!(await sendFor(request.params.token))) return unknown(reply);
      return sendPage(
        reply,
        200,
        'Unsubscribe',
        `<p>Stop receiving these emails? You will not receive further marketing email from us.</p>${confirmForm(
          `/u/${request.params.token}`,
          { 'List-Unsubscribe': 'One-Click' },
          'Unsubscribe',
        )}`,
      );
    },
  );

  app.post<{ Params: { token: string }; Body: { 'List-Unsubscribe': 'One-Click' } }>(
    '/u/:token',
    {
      schema: {
        tags: ['unsubscribe'],
        summary: 'RFC 8058 one-click unsubscribe',
        params,
        body: {
          type: 'object',
          required: ['List-Unsubscribe'],
          properties: { 'List-Unsubscribe': { type: 'string', const: 'One-Click' } },
        },
        response: { 200: htmlPageSchema, 404: htmlPageSchema },
      },
    },
    async (request, reply) => {
      const found = await sendFor(request.params.token);
      if (!found?.send.leadId || !found.send.emailHash) return unknown(reply);
      const { send, messageKey } = found;
      // An erased lead is suppressed for good already; recording the click (its IP, its user
      // agent) would store new personal data about someone who asked to be forgotten.
      if (send.leadErased) return sendPage(reply, 200, 'You are unsubscribed', '<p>You will not receive further marketing email from us.</p>');
      const leadId = send.leadId!;
      const purpose = send.consentPurpose ?? DEFAULT_PURPOSE;
      const now = new Date();
      const unsubscribedNow = await inTransaction(pool, async (tx) => {
        await suppressHash(tx, send.emailHash!, 'unsubscribed', `link in email ${messageKey}`);
        // The event ends the lead's enrolments (exit_on unsubscribed) once the dispatcher delivers it.
        const inserted = await storeEvents(tx, [
          { externalId: `unsubscribe:${messageKey}`, leadId, type: 'unsubscribed', occurredAt: now, data: { purpose, send_key: send.idempotencyKey } },
        ]);
        if (inserted.length === 0) return false; // already unsubscribed by this link
        await recordConsent(tx, {
          leadId,
          purpose,
          granted: false,
          source: 'unsubscribe-link',
          ip: request.ip || null,
          userAgent: request.headers['user-agent']?.slice(0, 1000) ?? null,
          evidence: { message_key: messageKey, one_click: true },
        });
        return true;
      });
      if (unsubscribedNow) {
        // Sends check consent and suppression in the database anyway: telling the running
        // enrolments at once is a courtesy that a Temporal outage must neither delay nor fail.
        void engine.consentChanged(leadId, purpose, false).catch((error) => request.log.warn({ err: error }, 'could not tell the enrolments of an unsubscribe'));
      }
      return sendPage(reply, 200, 'You are unsubscribed', '<p>You will not receive further marketing email from us.</p>');
    },
  );
};
