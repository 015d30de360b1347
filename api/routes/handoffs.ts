// Sales answers to handoffs: from the API (write scope) or from the signed links in the notice
// email. A link's GET only shows a confirmation page — mail scanners prefetch links — and the
// page's form POSTs the answer. Which answers a handoff takes when is campaign/sales-answers.ts;
// any other (including the same answer twice) is a 409 that names the answer already given.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { HANDOFF_STATUSES, SALES_OUTCOMES, answerRefusal as refusalOf, type HandoffStatus, type SalesOutcome } from '../../campaign';
import { getHandoff, listHandoffs, type HandoffView } from '../../db/handoffs';
import { verifyLink, type HandoffAction } from '../../mail/link-tokens';
import { verifyingSecrets } from '../../mail/links';
import { escapeHtml } from '../../runtime/html';
import type { ApiContext } from '../context';
import { badRequest, conflict, notFound, responses } from '../errors';
import { confirmForm, htmlPageSchema, sendPage } from '../pages';

const OUTCOME_OF_ACTION: Record<HandoffAction, SalesOutcome> = { accept: 'accepted', not_ready: 'not_ready', disqualify: 'disqualified' };

const answerRefusal = (handoff: HandoffView, outcome: SalesOutcome) => refusalOf(handoff.id, handoff.status, outcome);

/** Why each owner was chosen (or nobody could be) and why the others were skipped. */
export const routingLogSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      at: { type: 'string', format: 'date-time' },
      outcome: { type: 'string', enum: ['assigned', 'waiting', 'reassigned', 'kept'] },
      pool: { type: 'string' },
      rule: { type: 'string' },
      group: { type: 'string' },
      owner: { type: ['string', 'null'] },
      why: { type: 'string' },
      skipped: { type: 'array', items: { type: 'object', properties: { rep: { type: 'string' }, reason: { type: 'string' } } } },
    },
  },
} as const;

const handoffSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    lead_id: { type: 'string' },
    lead_email: { type: ['string', 'null'] },
    campaign_id: { type: 'string' },
    owner: {
      anyOf: [{ type: 'null' }, { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } } }],
    },
    pool: { type: ['string', 'null'] },
    status: { type: 'string', enum: HANDOFF_STATUSES },
    unassigned_reason: { type: ['string', 'null'], description: 'why nobody owns the handoff (no such pool, no active rep)' },
    score: { type: 'number' },
    reasons: {},
    breakdown: {},
    first_contact_due: { type: 'string', format: 'date-time' },
    outcome_due: { type: ['string', 'null'], format: 'date-time' },
    created_at: { type: 'string', format: 'date-time' },
    responded_at: { type: ['string', 'null'], format: 'date-time' },
    response_note: { type: ['string', 'null'] },
    routing_log: routingLogSchema,
  },
};

const toJson = (h: HandoffView) => ({
  id: h.id,
  lead_id: h.leadId,
  lead_email: h.leadEmail,
  campaign_id: h.campaignId,
  owner: h.owner,
  unassigned_reason: h.unassignedReason,
  pool: h.pool,
  status: h.status,
  score: h.score,
  reasons: h.reasons,
  breakdown: h.breakdown,
  first_contact_due: h.firstContactDue,
  outcome_due: h.outcomeDue,
  created_at: h.createdAt,
  responded_at: h.respondedAt,
  response_note: h.responseNote,
  routing_log: h.routingLog,
});

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } };

export const handoffRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine }) => {
  app.get<{ Querystring: { status?: HandoffStatus; owner?: string; limit?: string; offset?: string } }>(
    '/handoffs',
    {
      schema: {
        tags: ['handoffs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: HANDOFF_STATUSES },
            owner: { type: 'string', minLength: 1, maxLength: 320, description: "a sales rep's id or email" },
            limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: '1–1000, default 100' },
            offset: { type: 'string', pattern: '^[0-9]{1,7}$' },
          },
        },
        response: responses({ 200: { type: 'object', properties: { handoffs: { type: 'array', items: handoffSchema } } } }),
      },
    },
    async (request) => {
      const { status, owner, limit, offset } = request.query;
      const handoffs = await listHandoffs(pool, { status, owner, limit: limit ? Number(limit) : 100, offset: offset ? Number(offset) : 0 });
      return { handoffs: handoffs.map(toJson) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/handoffs/:id',
    { schema: { tags: ['handoffs'], params: idParams, response: responses({ 200: handoffSchema }) } },
    async (request) => {
      const handoff = await getHandoff(pool, request.params.id);
      if (!handoff) throw notFound(`handoff ${request.params.id}`);
      return toJson(handoff);
    },
  );

  app.post<{ Params: { id: string }; Body: { outcome: SalesOutcome; note?: string; recycle_at?: string } }>(
    '/handoffs/:id/response',
    {
      schema: {
        tags: ['handoffs'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['outcome'],
          properties: {
            outcome: { type: 'string', enum: SALES_OUTCOMES },
            note: { type: 'string', maxLength: 5000 },
            recycle_at: { type: 'string', format: 'date-time', description: 'not_ready only: when the lead returns to nurture (instead of the campaign\'s on_not_ready.after)' },
          },
        },
        response: responses({ 202: { type: 'object', properties: { handoff_id: { type: 'string' }, outcome: { type: 'string' } } } }),
      },
    },
    async (request, reply) => {
      const handoff = await getHandoff(pool, request.params.id);
      if (!handoff) throw notFound(`handoff ${request.params.id}`);
      const recycleAt = request.body.recycle_at === undefined ? undefined : new Date(request.body.recycle_at);
      if (recycleAt && request.body.outcome !== 'not_ready') throw badRequest('body.recycle_at goes only with the outcome not_ready');
      if (recycleAt && recycleAt.getTime() <= Date.now()) throw badRequest('body.recycle_at must be in the future');
      const refusal = answerRefusal(handoff, request.body.outcome);
      if (refusal) throw conflict(refusal, { status: handoff.status });
      await engine.salesResponse(handoff.id, request.body.outcome, request.body.note, recycleAt);
      return reply.status(202).send({ handoff_id: handoff.id, outcome: request.body.outcome });
    },
  );
};

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } } };

export const handoffLinkRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine, links }) => {
  await app.register(formbody, { bodyLimit: 4096 });

  async function resolve(token: string) {
    const claims = verifyLink(token, verifyingSecrets(links));
    if (claims?.kind !== 'handoff') return undefined;
    const handoff = await getHandoff(pool, claims.handoff);
    return handoff && { handoff, outcome: OUTCOME_OF_ACTION[claims.action] };
  }

  const unknown = (reply: FastifyReply) =>
    sendPage(reply, 404, 'Link not recognised', '<p>This link is not valid or has expired. Answer from the handoff in the API or dashboard instead.</p>');

  const who = (h: HandoffView) => escapeHtml(h.leadEmail ?? 'an erased lead');

  app.get<{ Params: { token: string } }>(
    '/h/:token',
    { schema: { tags: ['handoffs'], summary: 'Confirmation page for a sales answer (changes nothing)', params: tokenParams, response: { 200: htmlPageSchema, 404: htmlPageSchema, 409: htmlPageSchema } } },
    async (request, reply) => {
      const found = await resolve(request.params.token);
      if (!found) return unknown(reply);
      const { handoff, outcome } = found;
      const refusal = answerRefusal(handoff, outcome);
      if (refusal) return sendPage(reply, 409, 'Already answered', `<p>${escapeHtml(refusal)}.</p>`);
      return sendPage(
        reply,
        200,
        `Confirm: ${outcome.replace('_', ' ')} lead ${handoff.leadEmail ?? ''}?`,
        `<p>Lead: <strong>${who(handoff)}</strong> (score ${handoff.score}), campaign ${escapeHtml(handoff.campaignId)}.</p>${confirmForm(
          `/h/${request.params.token}`,
          { confirm: 'yes' },
          `Confirm: ${outcome.replace('_', ' ')}`,
        )}`,
      );
    },
  );

  app.post<{ Params: { token: string }; Body: { confirm: 'yes' } }>(
    '/h/:token',
    {
      schema: {
        tags: ['handoffs'],
        summary: 'Record the sales answer signed into the link',
        params: tokenParams,
        body: { type: 'object', required: ['confirm'], properties: { confirm: { type: 'string', const: 'yes' } } },
        response: { 200: htmlPageSchema, 404: htmlPageSchema, 409: htmlPageSchema },
      },
    },
    async (request, reply) => {
      const found = await resolve(request.params.token);
      if (!found) return unknown(reply);
      const { handoff, outcome } = found;
      const refusal = answerRefusal(handoff, outcome);
      if (refusal) return sendPage(reply, 409, 'Already answered', `<p>${escapeHtml(refusal)}.</p>`);
      await engine.salesResponse(handoff.id, outcome);
      return sendPage(reply, 200, 'Thank you', `<p>Recorded: ${escapeHtml(outcome.replace('_', ' '))} for ${who(handoff)}.</p>`);
    },
  );
};
