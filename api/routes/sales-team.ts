// The sales team: pools (manager, working calendar, holidays, routing rules), reps (what they
// cover, weight, capacity, own hours, absences, active flag), a team CSV import, each rep's
// personal page link, and the desk's overview (load, SLA record, overdue and unassigned
// handoffs). Every change wakes the workers' sales desk, so a rep back from an absence gets the
// handoffs waiting for someone at once.
import { parse } from 'csv-parse/sync';
import type { FastifyPluginAsync } from 'fastify';
import { unavailability } from '../../campaign/sales-routing';
import { inTransaction } from '../../db/pool';
import { notifySalesDesk, salesDeskOverview, type HandoffView } from '../../db/handoffs';
import {
  addAbsence,
  currentAbsences,
  deleteAbsence,
  endAbsences,
  getSalesPool,
  getSalesRep,
  listSalesPools,
  listSalesReps,
  repLoads,
  updateSalesRep,
  upsertSalesPool,
  upsertSalesRep,
  type SalesPool,
  type SalesRep,
  type SalesRepInput,
} from '../../db/sales-team';
import { Links, REP_PAGE_DAYS } from '../../mail/links';
import type { ApiContext } from '../context';
import { ApiError, badRequest, conflict, notFound, responses } from '../errors';
import { formatClock, poolInputOf, repBodyOfCsvRow, repChangeOf, TEAM_CSV_COLUMNS, type FieldProblem, type PoolBody, type RepBody } from '../sales-team-input';

const TEAM_CSV_LIMIT = 1024 * 1024;
/** A rep field's problem named by the CSV column it came from. */
const CSV_COLUMN_OF: Record<string, string> = { 'working_hours.days': 'working_days', 'working_hours.start': 'working_hours', 'working_hours.end': 'working_hours' };

const invalid = (problems: FieldProblem[], where = 'body') =>
  new ApiError(422, 'invalid_team', problems.map((p) => `${where}.${p.field}: ${p.message}`).join('; '), { problems });

const hoursSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    days: { anyOf: [{ type: 'array', items: { type: ['string', 'integer'] }, maxItems: 7 }, { type: 'string', maxLength: 40 }], description: "['mon', …], 'mon-fri' or ISO numbers 1–7" },
    start: { type: 'string', maxLength: 5, description: 'HH:MM' },
    end: { type: 'string', maxLength: 5, description: 'HH:MM' },
  },
};
const listOfText = { type: 'array', maxItems: 200, items: { type: 'string', minLength: 1, maxLength: 100 } };
const matchSchema = { type: 'object', additionalProperties: { type: 'string' } };

const poolSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    manager: { type: 'object', properties: { name: { type: ['string', 'null'] }, email: { type: 'string' } } },
    timezone: { type: 'string' },
    working_hours: { type: 'object', properties: { days: { type: 'array', items: { type: 'integer' } }, start: { type: 'string' }, end: { type: 'string' } } },
    holidays: { type: ['string', 'null'] },
    holiday_dates: { type: 'array', items: { type: 'string' } },
    routing: { type: 'array', items: { type: 'object', properties: { when: { type: 'string' }, match: matchSchema, reps: { type: 'array', items: { type: 'string' } } } } },
  },
};

const repSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    pool: { type: 'string' },
    territories: { type: 'array', items: { type: 'string' } },
    products: { type: 'array', items: { type: 'string' } },
    languages: { type: 'array', items: { type: 'string' } },
    weight: { type: 'integer' },
    capacity: { type: ['integer', 'null'] },
    timezone: { type: ['string', 'null'] },
    working_hours: {
      anyOf: [{ type: 'null' }, { type: 'object', properties: { days: { type: ['array', 'null'], items: { type: 'integer' } }, start: { type: ['string', 'null'] }, end: { type: ['string', 'null'] } } }],
      description: "the rep's own hours (null, or a null part: the pool's)",
    },
    active: { type: 'boolean' },
    available: { type: 'boolean' },
    unavailable_reason: { type: ['string', 'null'] },
    open_handoffs: { type: 'integer' },
    absences: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, starts_at: { type: 'string', format: 'date-time' }, ends_at: { type: 'string', format: 'date-time' }, note: { type: ['string', 'null'] } } } },
  },
};

const repBodySchema = (required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 320 },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    pool: { type: 'string', minLength: 1, maxLength: 100 },
    territories: listOfText,
    products: listOfText,
    languages: listOfText,
    weight: { type: 'integer', minimum: 1, maximum: 100, description: 'share of leads relative to the pool (default 1)' },
    capacity: { type: ['integer', 'null'], minimum: 1, description: 'most open handoffs at once (null: no limit)' },
    timezone: { type: ['string', 'null'], maxLength: 100 },
    working_hours: { anyOf: [{ type: 'null' }, hoursSchema] },
    active: { type: 'boolean' },
  },
});

const poolJson = (pool: SalesPool) => ({
  name: pool.name,
  manager: { name: pool.managerName, email: pool.managerEmail },
  timezone: pool.timezone,
  working_hours: { days: pool.workDays, start: formatClock(pool.workStart), end: formatClock(pool.workEnd) },
  holidays: pool.holidays,
  holiday_dates: pool.holidayDates,
  routing: pool.routing,
});

const poolParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][\\w.-]{0,99}$' } } };
const repParams = { type: 'object', required: ['rep'], properties: { rep: { type: 'string', minLength: 1, maxLength: 320, description: "the rep's id or email" } } };

export const salesTeamRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool: db, links }) => {
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: TEAM_CSV_LIMIT }, (_request, body, done) => done(null, body));

  /** The reps as the API shows them: with their load, availability and absences under way or planned. */
  async function repsJson(reps: SalesRep[], now = new Date()) {
    const loads = await repLoads(db, now, reps.map((rep) => rep.id));
    return Promise.all(
      reps.map(async (rep) => {
        const load = loads.get(rep.id) ?? { open: 0, awayUntil: null };
        const reason = unavailability({ active: rep.active, awayUntil: load.awayUntil?.getTime() ?? null, capacity: rep.capacity, open: load.open }) ?? null;
        const ownHours = rep.workDays !== null || rep.workStart !== null;
        return {
          id: rep.id,
          email: rep.email,
          name: rep.name,
          pool: rep.pool,
          territories: rep.territories,
          products: rep.products,
          languages: rep.languages,
          weight: rep.weight,
          capacity: rep.capacity,
          timezone: rep.timezone,
          // The rep's own hours; a part left null is the pool's.
          working_hours: ownHours ? { days: rep.workDays, start: rep.workStart === null ? null : formatClock(rep.workStart), end: rep.workEnd === null ? null : formatClock(rep.workEnd) } : null,
          active: rep.active,
          available: reason === null,
          unavailable_reason: reason,
          open_handoffs: load.open,
          absences: (await currentAbsences(db, rep.id, now)).map((a) => ({ id: a.id, starts_at: a.startsAt, ends_at: a.endsAt, note: a.note })),
        };
      }),
    );
  }
  const repJson = async (rep: SalesRep) => (await repsJson([rep]))[0]!;

  async function repOrFail(idOrEmail: string): Promise<SalesRep> {
    const rep = await getSalesRep(db, idOrEmail);
    if (!rep) throw notFound(`sales rep ${idOrEmail}`);
    return rep;
  }

  async function poolMustExist(name: string | undefined, field = 'pool') {
    if (name !== undefined && !(await getSalesPool(db, name))) throw invalid([{ field, message: `no sales pool "${name}" (create it first: PUT /v1/sales/pools/${name})` }]);
  }

  app.get('/sales/pools', { schema: { tags: ['sales team'], response: responses({ 200: { type: 'object', properties: { pools: { type: 'array', items: poolSchema } } } }) } }, async () => ({
    pools: (await listSalesPools(db)).map(poolJson),
  }));

  app.get<{ Params: { name: string } }>('/sales/pools/:name', { schema: { tags: ['sales team'], params: poolParams, response: responses({ 200: poolSchema }) } }, async (request) => {
    const pool = await getSalesPool(db, request.params.name);
    if (!pool) throw notFound(`sales pool ${request.params.name}`);
    return poolJson(pool);
  });

  app.put<{ Params: { name: string }; Body: PoolBody }>(
    '/sales/pools/:name',
    {
      schema: {
        tags: ['sales team'],
        summary: 'Create a pool or change it (manager, time zone, working hours, holidays, routing rules)',
        params: poolParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            manager_email: { type: 'string', format: 'email', maxLength: 320, description: 'required to create the pool' },
            manager_name: { type: 'string', maxLength: 200 },
            timezone: { type: 'string', maxLength: 100, description: 'IANA time zone of the working hours (default UTC)' },
            working_hours: hoursSchema,
            holidays: { type: ['string', 'null'], maxLength: 10, description: "a country whose public holidays the pool keeps, e.g. 'JP'" },
            holiday_dates: { type: 'array', maxItems: 400, items: { type: 'string', maxLength: 10 } },
            routing: { type: 'array', maxItems: 50, items: { type: 'object' }, description: 'ordered rules { when?, match?: { territory|product|language: lead attribute }, reps?: [email] }' },
          },
        },
        response: responses({ 200: poolSchema, 201: poolSchema }),
      },
    },
    async (request, reply) => {
      const existing = await getSalesPool(db, request.params.name);
      const { pool, problems } = poolInputOf(request.params.name, { ...request.body, manager_email: request.body.manager_email ?? existing?.managerEmail ?? '' });
      if (!existing && !request.body.manager_email) problems.push({ field: 'manager_email', message: 'is required to create a pool (the manager hears of handoffs nobody can take)' });
      if (!pool || problems.length) throw invalid(problems);
      const saved = await upsertSalesPool(db, pool);
      await notifySalesDesk(db);
      return reply.status(saved.created ? 201 : 200).send(poolJson(saved.pool));
    },
  );

  app.get<{ Querystring: { pool?: string } }>(
    '/sales/reps',
    {
      schema: {
        tags: ['sales team'],
        querystring: { type: 'object', additionalProperties: false, properties: { pool: { type: 'string', maxLength: 100 } } },
        response: responses({ 200: { type: 'object', properties: { reps: { type: 'array', items: repSchema } } } }),
      },
    },
    async (request) => {
      if (request.query.pool && !(await getSalesPool(db, request.query.pool))) throw notFound(`sales pool ${request.query.pool}`);
      return { reps: await repsJson(await listSalesReps(db, request.query.pool)) };
    },
  );

  app.post<{ Body: RepBody }>(
    '/sales/reps',
    { schema: { tags: ['sales team'], summary: 'Add a rep to a pool', body: repBodySchema(['email', 'name', 'pool']), response: responses({ 201: repSchema }) } },
    async (request, reply) => {
      if (await getSalesRep(db, request.body.email!)) throw conflict(`a rep with email ${request.body.email} exists; change it with PATCH /v1/sales/reps/${request.body.email}`);
      const { change, problems } = repChangeOf(request.body);
      if (!change) throw invalid(problems);
      await poolMustExist(request.body.pool);
      const { rep } = await upsertSalesRep(db, change as SalesRepInput);
      await notifySalesDesk(db);
      return reply.status(201).send(await repJson(rep));
    },
  );

  app.get<{ Params: { rep: string } }>('/sales/reps/:rep', { schema: { tags: ['sales team'], params: repParams, response: responses({ 200: repSchema }) } }, async (request) =>
    repJson(await repOrFail(request.params.rep)),
  );

  app.patch<{ Params: { rep: string }; Body: RepBody }>(
    '/sales/reps/:rep',
    { schema: { tags: ['sales team'], summary: "Change a rep (active: false takes them out of routing)", params: repParams, body: repBodySchema([]), response: responses({ 200: repSchema }) } },
    async (request) => {
      const rep = await repOrFail(request.params.rep);
      const { change, problems } = repChangeOf(request.body);
      if (!change) throw invalid(problems);
      await poolMustExist(request.body.pool);
      if (request.body.email && request.body.email.toLowerCase() !== rep.email) {
        if (await getSalesRep(db, request.body.email)) throw conflict(`a rep with email ${request.body.email} exists`);
      }
      const updated = await updateSalesRep(db, rep.id, change);
      await notifySalesDesk(db);
      return repJson(updated!);
    },
  );

  app.post<{ Params: { rep: string }; Body: { starts_at?: string; ends_at: string; note?: string } }>(
    '/sales/reps/:rep/absences',
    {
      schema: {
        tags: ['sales team'],
        summary: 'Mark a rep out of office (from now unless starts_at is given)',
        params: repParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['ends_at'],
          properties: { starts_at: { type: 'string', format: 'date-time' }, ends_at: { type: 'string', format: 'date-time' }, note: { type: 'string', maxLength: 500 } },
        },
        response: responses({ 201: repSchema }),
      },
    },
    async (request, reply) => {
      const rep = await repOrFail(request.params.rep);
      const now = new Date();
      const startsAt = request.body.starts_at ? new Date(request.body.starts_at) : now;
      const endsAt = new Date(request.body.ends_at);
      if (endsAt <= startsAt || endsAt <= now) throw invalid([{ field: 'ends_at', message: 'must be after starts_at and after now' }]);
      await addAbsence(db, rep.id, { startsAt, endsAt, note: request.body.note });
      await notifySalesDesk(db);
      return reply.status(201).send(await repJson(rep));
    },
  );

  app.delete<{ Params: { rep: string; id: string } }>(
    '/sales/reps/:rep/absences/:id',
    {
      schema: {
        tags: ['sales team'],
        params: { type: 'object', required: ['rep', 'id'], properties: { rep: repParams.properties.rep, id: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
        response: responses({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      const rep = await repOrFail(request.params.rep);
      if (!(await deleteAbsence(db, rep.id, Number(request.params.id)))) throw notFound(`absence ${request.params.id} of ${rep.email}`);
      await notifySalesDesk(db);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { rep: string } }>(
    '/sales/reps/:rep/back',
    { schema: { tags: ['sales team'], summary: 'The rep is back: their absences end now, and they are active', params: repParams, response: responses({ 200: repSchema }) } },
    async (request) => {
      const rep = await repOrFail(request.params.rep);
      await inTransaction(db, async (tx) => {
        await endAbsences(tx, rep.id, new Date());
        if (!rep.active) await updateSalesRep(tx, rep.id, { active: true });
      });
      await notifySalesDesk(db);
      return repJson((await getSalesRep(db, rep.id))!);
    },
  );

  app.post<{ Params: { rep: string } }>(
    '/sales/reps/:rep/link',
    {
      schema: {
        tags: ['sales team'],
        summary: `A personal link to the rep's page (their open handoffs and answers), valid ${REP_PAGE_DAYS} days; every notice carries one too`,
        params: repParams,
        response: responses({ 200: { type: 'object', properties: { url: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' } } } }),
      },
    },
    async (request) => {
      const rep = await repOrFail(request.params.rep);
      const { url, expiresAt } = new Links(links).repPage(rep.id, Date.now());
      return { url, expires_at: expiresAt };
    },
  );

  app.post<{ Body: string }>(
    '/sales/import',
    {
      schema: {
        tags: ['sales team'],
        summary: `Import a team from CSV (header: ${TEAM_CSV_COLUMNS.join(',')}; lists separated by ';'): all rows or none`,
        consumes: ['text/csv'],
        response: responses({ 200: { type: 'object', properties: { created: { type: 'integer' }, updated: { type: 'integer' } } } }),
      },
    },
    async (request) => {
      if (typeof request.body !== 'string') throw new ApiError(415, 'unsupported_media_type', 'send the team as text/csv');
      let rows: Record<string, string>[];
      try {
        rows = parse(request.body, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, bom: true, relax_column_count: false });
      } catch (error) {
        throw badRequest(`the CSV cannot be read: ${(error as Error).message}`);
      }
      if (rows.length === 0) throw badRequest('the CSV has no rows under its header');
      const unknown = Object.keys(rows[0]!).filter((column) => !(TEAM_CSV_COLUMNS as readonly string[]).includes(column));
      if (unknown.length) throw badRequest(`unknown column ${unknown.join(', ')}; expected ${TEAM_CSV_COLUMNS.join(', ')}`);
      const pools = new Set((await listSalesPools(db)).map((p) => p.name));
      const problems: (FieldProblem & { line: number })[] = [];
      const inputs: SalesRepInput[] = [];
      rows.forEach((row, i) => {
        const line = i + 2;
        const { body, problems: cells } = repBodyOfCsvRow(row);
        const { change, problems: fields } = body ? repChangeOf(body) : { change: undefined, problems: [] };
        for (const p of [...cells, ...fields]) problems.push({ line, ...p, field: CSV_COLUMN_OF[p.field] ?? p.field });
        if (body?.pool && !pools.has(body.pool)) problems.push({ line, field: 'pool', message: `no sales pool "${body.pool}"` });
        if (change) inputs.push(change as SalesRepInput);
      });
      if (problems.length) {
        throw new ApiError(422, 'invalid_team', problems.slice(0, 20).map((p) => `line ${p.line}, column ${p.field}: ${p.message}`).join('; '), { problems });
      }
      const saved = await inTransaction(db, async (tx) => Promise.all(inputs.map((input) => upsertSalesRep(tx, input))));
      await notifySalesDesk(db);
      return { created: saved.filter((s) => s.created).length, updated: saved.filter((s) => !s.created).length };
    },
  );

  app.get(
    '/sales/desk',
    {
      schema: {
        tags: ['sales team'],
        summary: "Each rep's load and first-contact SLA record (30 days), overdue handoffs and those waiting for an owner",
        response: responses({ 200: { type: 'object', additionalProperties: true } }),
      },
    },
    async () => {
      const now = new Date();
      const overview = await salesDeskOverview(db, now, new Date(now.getTime() - 30 * 86_400_000));
      const brief = (h: HandoffView) => ({
        id: h.id,
        lead_id: h.leadId,
        lead_email: h.leadEmail,
        campaign_id: h.campaignId,
        pool: h.pool,
        owner: h.owner,
        unassigned_reason: h.unassignedReason,
        score: h.score,
        first_contact_due: h.firstContactDue,
        created_at: h.createdAt,
      });
      return {
        reps: overview.reps.map((r) => ({
          id: r.id,
          name: r.name,
          email: r.email,
          pool: r.pool,
          active: r.active,
          weight: r.weight,
          capacity: r.capacity,
          away_until: r.awayUntil,
          open: r.open,
          overdue: r.overdue,
          answered: r.answered,
          answered_in_time: r.answeredInTime,
          sla_rate: r.answered ? r.answeredInTime / r.answered : null,
        })),
        unassigned: overview.unassigned.map(brief),
        overdue: overview.overdue.map(brief),
      };
    },
  );
};
