// Leads: upsert by email, search by address, profile, timeline, GDPR export and erasure, CSV import.
//
// Erasure removes the personal data (see db/lead-records.ts) and suppresses the address hash with
// reason 'erased'. Upserting the same address later is allowed — a person may come back — and
// revives the row (same id, fresh data), but the suppression stays: the lead is unmailable
// until an operator lifts it deliberately. The response of such an upsert says `suppressed`.
import type { FastifyPluginAsync } from 'fastify';
import { IANAZone } from 'luxon';
import { Readable, Transform } from 'node:stream';
import { currentConsent } from '../../db/consent';
import { leadKeyOwner } from '../../db/data-keys';
import { enrolmentsOfLead } from '../../db/enrolments';
import { latestHandoffOfLead } from '../../db/handoffs';
import { eraseLead, exportLead, leadTimeline } from '../../db/lead-records';
import { externalIdTakenByOther, getLead, searchLeads, upsertLead, type Lead } from '../../db/leads';
import { suppressionReasonOfLead } from '../../db/suppressions';
import type { ApiContext } from '../context';
import { ApiError, badRequest, notFound, responses } from '../errors';
import { IMPORT_LIMIT, ImportHeaderError, importLeads } from '../lead-import';
import { anyObject, attributesSchema, emailSchema, leadIdParams } from './shared-schemas';

const leadSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: ['string', 'null'] },
    external_id: { type: ['string', 'null'] },
    attributes: anyObject,
    timezone: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    erased_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const toJson = (lead: Lead) => ({
  id: lead.id,
  email: lead.email,
  external_id: lead.externalId,
  attributes: lead.attributes,
  timezone: lead.timezone,
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
  erased_at: lead.erasedAt,
});

export const leadRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine, payloadCodec }) => {
  const requireLead = async (id: string) => {
    const lead = await getLead(pool, id);
    if (!lead) throw notFound(`lead ${id}`);
    return lead;
  };

  app.put<{ Body: { email: string; attributes?: Record<string, unknown>; timezone?: string | null; external_id?: string | null } }>(
    '/leads',
    {
      schema: {
        tags: ['leads'],
        summary: 'Create or update a lead by email',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: {
            email: emailSchema,
            attributes: attributesSchema,
            timezone: { type: ['string', 'null'], maxLength: 64, description: 'IANA time zone, e.g. Asia/Tokyo' },
            external_id: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
          },
        },
        response: responses({
          200: { type: 'object', properties: { created: { type: 'boolean' }, suppressed: { type: ['string', 'null'] }, lead: leadSchema } },
          201: { type: 'object', properties: { created: { type: 'boolean' }, suppressed: { type: ['string', 'null'] }, lead: leadSchema } },
        }),
      },
    },
    async (request, reply) => {
      const { email, attributes, timezone, external_id } = request.body;
      if (timezone && !IANAZone.isValidZone(timezone)) throw badRequest(`body/timezone '${timezone}' is not an IANA time zone`);
      if (external_id && (await externalIdTakenByOther(pool, external_id, email))) {
        throw new ApiError(409, 'conflict', `external_id '${external_id}' already belongs to another lead`);
      }
      const { lead, created } = await upsertLead(pool, { email, attributes, timezone, externalId: external_id });
      const suppressed = await suppressionReasonOfLead(pool, lead.id);
      return reply.status(created ? 201 : 200).send({ created, suppressed, lead: toJson(lead) });
    },
  );

  app.get<{ Querystring: { q?: string; limit?: string } }>(
    '/leads',
    {
      schema: {
        tags: ['leads'],
        summary: 'Search leads by a part of their email address (case-insensitive), newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', minLength: 1, maxLength: 254, pattern: '\\S', description: 'part of the address, e.g. "@globex" or "aiko"; omitted: the newest leads' },
            limit: { type: 'string', pattern: '^(?:[1-9][0-9]?|100)$', description: '1–100, default 20' },
          },
        },
        response: responses({ 200: { type: 'object', properties: { leads: { type: 'array', items: leadSchema } } } }),
      },
    },
    async (request) => {
      const leads = await searchLeads(pool, { text: request.query.q?.trim(), limit: Number(request.query.limit ?? 20) });
      return { leads: leads.map(toJson) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary: 'Lead profile: data, consent, enrolments, stage and score',
        params: leadIdParams,
        response: responses({
          200: {
            type: 'object',
            properties: {
              lead: leadSchema,
              consent: { type: 'object', additionalProperties: { type: 'boolean' } },
              suppressed: { type: ['string', 'null'] },
              stage: { type: ['string', 'null'] },
              score: { type: ['number', 'null'] },
              score_breakdown: { anyOf: [{ type: 'null' }, { type: 'array', items: anyObject }] },
              enrolments: { type: 'array', items: anyObject },
              latest_handoff: { anyOf: [{ type: 'null' }, anyObject] },
            },
          },
        }),
      },
    },
    async (request) => {
      const lead = await requireLead(request.params.id);
      const [consent, enrolments, handoff, suppressed] = await Promise.all([
        currentConsent(pool, lead.id),
        enrolmentsOfLead(pool, lead.id),
        latestHandoffOfLead(pool, lead.id),
        suppressionReasonOfLead(pool, lead.id),
      ]);
      // Stage and score of the most recently updated enrolment that is still open, else the last one.
      const current = [...enrolments].sort((a, b) => Number(!!a.ended_at) - Number(!!b.ended_at) || b.updated_at.getTime() - a.updated_at.getTime())[0];
      // Why the score is what it is comes from the running workflow; a profile without it is still useful.
      let breakdown: unknown = null;
      if (current && !current.ended_at) {
        try {
          const state = await engine.enrolmentState(current.workflow_id);
          breakdown = (state as { breakdown?: unknown } | undefined)?.breakdown ?? null;
        } catch (error) {
          request.log.warn({ err: error, workflowId: current.workflow_id }, 'enrolment state unavailable for a lead profile');
        }
      }
      return {
        lead: toJson(lead),
        consent,
        suppressed,
        stage: current?.stage ?? null,
        score: current?.score ?? null,
        score_breakdown: breakdown,
        enrolments,
        latest_handoff: handoff,
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: string; offset?: string } }>(
    '/leads/:id/timeline',
    {
      schema: {
        tags: ['leads'],
        summary: 'Everything that happened to the lead, newest first',
        params: leadIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: '1–1000, default 100' },
            offset: { type: 'string', pattern: '^[0-9]{1,7}$' },
          },
        },
        response: responses({
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, kind: { type: 'string' }, id: { type: 'string' }, data: anyObject } },
              },
              next_offset: { type: ['integer', 'null'] },
            },
          },
        }),
      },
    },
    async (request) => {
      const lead = await requireLead(request.params.id);
      const limit = Number(request.query.limit ?? 100);
      const offset = Number(request.query.offset ?? 0);
      const items = await leadTimeline(pool, lead.id, limit + 1, offset);
      return { items: items.slice(0, limit), next_offset: items.length > limit ? offset + limit : null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/leads/:id/export',
    { schema: { tags: ['leads'], summary: 'GDPR export: everything stored about the lead', params: leadIdParams, response: responses({ 200: anyObject }) } },
    async (request) => {
      const data = await exportLead(pool, request.params.id);
      if (!data) throw notFound(`lead ${request.params.id}`);
      return data;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary: 'GDPR erasure (idempotent); the address stays suppressed',
        params: leadIdParams,
        response: responses({
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              erased_at: { type: 'string', format: 'date-time' },
              exited_enrolments: { type: 'array', items: { type: 'string' }, description: 'enrolments the erasure ended' },
              unterminated_workflows: {
                type: 'array',
                items: { type: 'string' },
                description: 'workflows Temporal could not be asked to end (unreadable all the same); erasing again retries',
              },
            },
          },
        }),
      },
    },
    async (request) => {
      const result = await eraseLead(pool, request.params.id);
      if (!result) throw notFound(`lead ${request.params.id}`);
      payloadCodec?.forget(leadKeyOwner(request.params.id));
      // The data are erased and the lead's data key is gone; what is left is to stop the
      // workflows, which could not read their own state any more. A Temporal outage leaves
      // them to Temporal's retention (unreadable all the same) and is reported, not failed.
      const unterminated: string[] = [];
      for (const workflowId of result.erasedWorkflows) {
        await engine.terminateEnrolment(workflowId, 'lead erased').catch((error) => {
          request.log.warn({ err: error, workflowId }, 'could not terminate the workflow of an erased lead');
          unterminated.push(workflowId);
        });
      }
      return { id: request.params.id, erased_at: result.erasedAt, exited_enrolments: result.openWorkflows, unterminated_workflows: unterminated };
    },
  );

  // The CSV body is passed through as a stream; the import reads it as it arrives.
  app.addContentTypeParser(['text/csv', 'application/csv'], (_request, payload, done) => done(null, payload));

  app.post<{ Body: Readable }>(
    '/leads/import',
    {
      bodyLimit: IMPORT_LIMIT,
      schema: {
        tags: ['leads'],
        summary: 'Import leads from CSV (text/csv, header row, up to 50 MB); bad rows are reported, good ones kept',
        consumes: ['text/csv'],
        response: responses({
          200: {
            type: 'object',
            properties: {
              imported: { type: 'integer' },
              created: { type: 'integer' },
              updated: { type: 'integer' },
              rejected: { type: 'integer' },
              errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } } },
            },
          },
        }),
      },
    },
    async (request) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > IMPORT_LIMIT) throw new ApiError(413, 'payload_too_large', `a CSV import may be at most ${IMPORT_LIMIT} bytes`);
      if (!(request.body instanceof Readable)) throw new ApiError(415, 'unsupported_media_type', 'send the CSV file as text/csv');
      let seen = 0;
      const limited = request.body.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            seen += chunk.length;
            if (seen > IMPORT_LIMIT) callback(new ApiError(413, 'payload_too_large', `a CSV import may be at most ${IMPORT_LIMIT} bytes`));
            else callback(null, chunk);
          },
        }),
      );
      request.body.on('error', (error) => limited.destroy(error));
      try {
        return await importLeads(pool, engine, limited);
      } catch (error) {
        if (error instanceof ImportHeaderError) throw new ApiError(400, 'invalid_csv', error.message);
        throw error;
      }
    },
  );
};
