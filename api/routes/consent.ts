// Consent with its evidence: every grant and withdrawal is appended (never overwritten) and
// signalled to the lead's running enrolments, which check it again at every send anyway.
import type { FastifyPluginAsync } from 'fastify';
import { consentHistory, currentConsent, recordConsent } from '../../db/consent';
import { getLead } from '../../db/leads';
import type { ApiContext } from '../context';
import { ApiError, notFound, responses } from '../errors';
import { leadIdParams } from './shared-schemas';

const recordSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    purpose: { type: 'string' },
    granted: { type: 'boolean' },
    source: { type: 'string' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    evidence: { type: 'object', additionalProperties: true },
    recorded_at: { type: 'string', format: 'date-time' },
  },
} as const;

interface ConsentBody {
  purpose: string;
  granted: boolean;
  source: string;
  ip?: string;
  user_agent?: string;
  evidence?: Record<string, unknown>;
}

export const consentRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine }) => {
  const toJson = (record: Awaited<ReturnType<typeof recordConsent>>) => ({
    id: record.id,
    purpose: record.purpose,
    granted: record.granted,
    source: record.source,
    ip: record.ip,
    user_agent: record.userAgent,
    evidence: record.evidence,
    recorded_at: record.recordedAt,
  });

  app.post<{ Params: { id: string }; Body: ConsentBody }>(
    '/leads/:id/consent',
    {
      schema: {
        tags: ['consent'],
        summary: 'Record a grant or withdrawal of consent for a purpose, with evidence',
        params: leadIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['purpose', 'granted', 'source'],
          properties: {
            purpose: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'e.g. marketing_email' },
            granted: { type: 'boolean' },
            source: { type: 'string', minLength: 1, maxLength: 200, description: "where the decision came from, e.g. 'form:whitepaper'" },
            ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
            user_agent: { type: 'string', maxLength: 1000 },
            evidence: { type: 'object', maxProperties: 50 },
          },
        },
        response: responses({ 201: recordSchema }),
      },
    },
    async (request, reply) => {
      const lead = await getLead(pool, request.params.id);
      if (!lead) throw notFound(`lead ${request.params.id}`);
      if (lead.erasedAt) throw new ApiError(409, 'conflict', `lead ${lead.id} was erased`);
      const { purpose, granted, source, ip, user_agent, evidence } = request.body;
      const record = await recordConsent(pool, { leadId: lead.id, purpose, granted, source, ip, userAgent: user_agent, evidence });
      await engine.consentChanged(lead.id, purpose, granted);
      return reply.status(201).send(toJson(record));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/leads/:id/consent',
    {
      schema: {
        tags: ['consent'],
        summary: 'Current consent per purpose and the full history',
        params: leadIdParams,
        response: responses({
          200: {
            type: 'object',
            properties: { current: { type: 'object', additionalProperties: { type: 'boolean' } }, history: { type: 'array', items: recordSchema } },
          },
        }),
      },
    },
    async (request) => {
      const lead = await getLead(pool, request.params.id);
      if (!lead) throw notFound(`lead ${request.params.id}`);
      const [current, history] = await Promise.all([currentConsent(pool, lead.id), consentHistory(pool, lead.id)]);
      return { current, history: history.map(toJson) };
    },
  );
};
