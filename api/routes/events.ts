// Event ingest, single and batch: accepted (202) once stored in PostgreSQL, never waiting on
// Temporal; the workers' dispatcher delivers them to the workflows, each lead's in order. Events
// are idempotent by their sender's id (a duplicate answers `duplicate: true` and is not stored
// again). A lead named by email is created if unknown — websites send events for new visitors —
// while a lead named by id must exist (404).
import type { FastifyPluginAsync } from 'fastify';
import { LEAD_UPDATED } from '../../campaign';
import { addressHash } from '../../db/addresses';
import { acceptEvent, deliveryBacklog, leadsOfEvents, storeEvents, type EventInput } from '../../db/events';
import { unerasedLeadIds, unerasedLeadIdsByHash, upsertLead } from '../../db/leads';
import type { Pool } from '../../db/pool';
import type { ApiContext } from '../context';
import { ApiError, badRequest, responses } from '../errors';
import { attributesSchema, emailSchema, uuidSchema } from './shared-schemas';

export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$';
export const MAX_BATCH = 1000;
/** Clocks drift; an event from further in the future than this is refused. */
const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

export interface EventBody {
  id: string;
  lead: { email?: string; id?: string };
  type: string;
  at?: string;
  data?: Record<string, unknown>;
  lead_attributes?: Record<string, unknown>;
}

export const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'lead', 'type'],
  properties: {
    // Ids with these prefixes are the ones tracking, unsubscribe links and launches give their events.
    id: { type: 'string', minLength: 1, maxLength: 200, pattern: '^(?!(open|click|unsubscribe|launch):)' },
    lead: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: { email: emailSchema, id: uuidSchema },
      description: 'either { email } (created if unknown) or { id } (must exist)',
    },
    type: { type: 'string', maxLength: 100, pattern: EVENT_TYPE_PATTERN },
    at: { type: 'string', format: 'date-time', description: 'when it happened; default: when received' },
    data: { type: 'object', maxProperties: 100 },
    lead_attributes: attributesSchema,
  },
} as const;

const resultSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, lead_id: { type: 'string' }, duplicate: { type: 'boolean' } },
} as const;

interface IngestResult {
  id: string;
  lead_id: string;
  duplicate: boolean;
}

/**
 * Stores events (the workers' dispatcher delivers them); all-or-nothing on validation (nothing
 * stored if one is refused). A single event takes one round trip to the database.
 */
export async function ingestEvents(pool: Pool, bodies: EventBody[], now = Date.now()): Promise<IngestResult[]> {
  const times = bodies.map((body, index) => {
    const at = body.at === undefined ? now : Date.parse(body.at);
    const where = bodies.length > 1 ? `events[${index}]` : 'event';
    if (Number.isNaN(at)) throw badRequest(`${where}.at is not a valid time`);
    if (at > now + MAX_FUTURE_MS) throw badRequest(`${where}.at is more than a day in the future`);
    if (body.type === LEAD_UPDATED) throw badRequest(`${where}.type ${LEAD_UPDATED} is the engine's own: change attributes with PUT /v1/leads or lead_attributes`);
    return at;
  });
  const eventOf = (body: EventBody, index: number) => ({ externalId: body.id, type: body.type, occurredAt: new Date(times[index]!), data: body.data ?? {} });

  // One event without attributes to merge: one statement. Attributes go through the lead upsert
  // below, which stores their change as a lead.updated event ahead of the event itself.
  if (bodies.length === 1 && Object.keys(bodies[0]!.lead_attributes ?? {}).length === 0) {
    const body = bodies[0]!;
    const lead = body.lead.id ? { id: body.lead.id } : { email: body.lead.email! };
    const { leadId, duplicate } = await acceptEvent(pool, lead, eventOf(body, 0));
    if (!leadId) throw new ApiError(404, 'not_found', `lead ${body.lead.id} does not exist`, { missing_leads: [body.lead.id] });
    return [{ id: body.id, lead_id: leadId, duplicate }];
  }

  // Leads named by id must all exist (and not be erased) before anything is written.
  const ids = [...new Set(bodies.flatMap((body) => (body.lead.id ? [body.lead.id] : [])))];
  if (ids.length) {
    const known = await unerasedLeadIds(pool, ids);
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) throw new ApiError(404, 'not_found', `lead ${missing[0]} does not exist`, { missing_leads: missing });
  }

  // Leads named by email: created or updated once per address, attributes merged in order.
  const leadByHash = new Map<string, string>();
  const byEmail = new Map<string, { email: string; attributes: Record<string, unknown> }>();
  for (const body of bodies) {
    if (!body.lead.email) continue;
    const hash = addressHash(body.lead.email);
    const entry = byEmail.get(hash) ?? { email: body.lead.email, attributes: {} };
    Object.assign(entry.attributes, body.lead_attributes ?? {});
    byEmail.set(hash, entry);
  }
  // Known, unerased leads without new attributes need no write: one lookup for the whole batch.
  if (byEmail.size) {
    for (const [hash, id] of await unerasedLeadIdsByHash(pool, [...byEmail.keys()])) {
      if (Object.keys(byEmail.get(hash)!.attributes).length === 0) leadByHash.set(hash, id);
    }
  }
  for (const [hash, { email, attributes }] of byEmail) {
    if (leadByHash.has(hash)) continue;
    const { lead } = await upsertLead(pool, { email, attributes });
    leadByHash.set(hash, lead.id);
  }
  const leadOf = (body: EventBody) => body.lead.id ?? leadByHash.get(addressHash(body.lead.email!))!;

  const inputs: EventInput[] = bodies.map((body, index) => ({ ...eventOf(body, index), leadId: leadOf(body) }));
  const inserted = await storeEvents(pool, inputs);

  // An id is new once: a repeat within the same batch is a duplicate too, answered with the lead
  // its first copy was stored for.
  const fresh = new Set(inserted.map((event) => event.externalId));
  const repeated = inputs.filter((input) => !fresh.has(input.externalId)).map((input) => input.externalId);
  const storedLead = repeated.length ? await leadsOfEvents(pool, repeated) : new Map<string, string>();
  return bodies.map((body, index) => {
    const duplicate = !fresh.delete(body.id);
    return { id: body.id, lead_id: storedLead.get(body.id) ?? inputs[index]!.leadId, duplicate };
  });
}

export const eventRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, metrics }) => {
  const count = (results: IngestResult[]) => {
    for (const result of results) metrics.eventsIngested.labels(result.duplicate ? 'duplicate' : 'new').inc();
  };

  app.post<{ Body: EventBody }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Ingest one event (idempotent by id)',
        body: eventSchema,
        response: responses({ 200: resultSchema, 202: resultSchema }),
      },
    },
    async (request, reply) => {
      const results = await ingestEvents(pool, [request.body]);
      count(results);
      return reply.status(results[0]!.duplicate ? 200 : 202).send(results[0]);
    },
  );

  app.post<{ Body: { events: EventBody[] } }>(
    '/events/batch',
    {
      schema: {
        tags: ['events'],
        summary: `Ingest up to ${MAX_BATCH} events (idempotent by id)`,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['events'],
          properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: eventSchema } },
        },
        response: responses({
          200: {
            type: 'object',
            properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, results: { type: 'array', items: resultSchema } },
          },
        }),
      },
    },
    async (request) => {
      const results = await ingestEvents(pool, request.body.events);
      count(results);
      const duplicates = results.filter((result) => result.duplicate).length;
      return { accepted: results.length - duplicates, duplicates, results };
    },
  );

  app.get(
    '/events/delivery',
    {
      schema: {
        tags: ['events'],
        summary: "The dispatchers' backlog and delivery lag (events stored but not yet delivered to the workflows)",
        response: responses({
          200: {
            type: 'object',
            properties: {
              undelivered: { type: 'integer' },
              retrying: { type: 'integer', description: 'of those, events whose delivery failed at least once' },
              oldest_seconds: { type: 'number', description: 'age of the oldest undelivered event' },
              lag_seconds: {
                type: 'object',
                description: 'stored-to-delivered time over the last 5 minutes',
                properties: { p50: { type: 'number' }, p99: { type: 'number' }, max: { type: 'number' }, delivered: { type: 'integer' } },
              },
              last_error: { type: ['string', 'null'] },
            },
          },
        }),
      },
    },
    async () => {
      const backlog = await deliveryBacklog(pool);
      return { undelivered: backlog.undelivered, retrying: backlog.retrying, oldest_seconds: backlog.oldestSeconds, lag_seconds: backlog.lagSeconds, last_error: backlog.lastError };
    },
  );
};
