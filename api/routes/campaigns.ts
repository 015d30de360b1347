// Campaigns and enrolments. A campaign is posted as YAML (application/yaml) or JSON, validated by
// the campaign core (errors: 422 with path, message and line) and stored as an immutable
// version named by its content hash (the same content again is the same version).
// Status changes: draft|paused → active (launch/resume), active → paused, any → archived.
// Running enrolments keep their version until migrated explicitly, per campaign or per enrolment.
// A status change or a campaign-wide migration reaches the open enrolments through a fan-out
// (workflows/campaign-fanout.ts) that runs after the request: the answer carries its progress,
// and GET /campaigns/:id/fan-outs/:fanOutId follows it.
import type { FastifyPluginAsync } from 'fastify';
import { CAMPAIGN_ACTIONS, parseCampaign, validateCampaign, type CampaignResult } from '../../campaign';
import { getCampaign, getCampaignVersion, listCampaigns, listCampaignVersions, saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { openEnrolment } from '../../db/enrolments';
import { getFanOut, listFanOuts, type FanOut } from '../../db/fanouts';
import { getLead } from '../../db/leads';
import { TemplateLibrary } from '../../mail/renderer';
import type { ApiContext } from '../context';
import { ApiError, conflict, notFound, responses } from '../errors';
import { anyObject, campaignIdParams, uuidSchema } from './shared-schemas';

const workflowParams = { type: 'object', required: ['workflowId'], properties: { workflowId: { type: 'string', minLength: 1, maxLength: 400 } } };
const campaignBody = {
  type: ['object', 'string'],
  description: 'the campaign definition: a JSON object, or YAML/JSON text sent as application/yaml',
};

const versionSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, version: { type: 'integer' }, content_hash: { type: 'string' }, created: { type: 'boolean' }, status: { type: 'string' } },
};
const summarySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string' },
    current_version: { type: ['integer', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

const fanOutSchema = {
  type: 'object',
  description: 'a campaign-wide change carried to the open enrolments after the request',
  properties: {
    id: { type: 'integer' },
    action: { type: 'string', enum: ['pause', 'resume', 'archive', 'migrate'] },
    to_version: { type: ['integer', 'null'] },
    total: { type: 'integer', description: 'open enrolments when it started' },
    done: { type: 'integer', description: 'enrolments reached' },
    skipped: { type: 'integer', description: 'ended meanwhile, or nothing to do' },
    finished: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
  },
};
const fanOutView = (fanOut: FanOut) => ({
  id: fanOut.id,
  action: fanOut.action,
  to_version: fanOut.toVersion,
  total: fanOut.total,
  done: fanOut.done,
  skipped: fanOut.skipped,
  finished: fanOut.finishedAt !== null,
  created_at: fanOut.createdAt,
  finished_at: fanOut.finishedAt,
});

const versionNumber = { type: 'integer', minimum: 1, maximum: 2_147_483_647 };
const migrateCampaignBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    to_version: { ...versionNumber, description: 'the version to move to; default: the current version' },
    from_version: { ...versionNumber, description: 'only enrolments on this version; default: every other version' },
  },
};
const migrateEnrolmentBody = {
  type: 'object',
  additionalProperties: false,
  properties: { to_version: { ...versionNumber, description: 'the version to move to; default: the current version' } },
};
/** Both migration bodies are optional: a request without one migrates to the current version. */
const emptyBodyIsEmptyObject = async (request: { body: unknown }) => {
  request.body ??= {};
};

// Every email template a campaign names must exist, or its sends would fail when due.
const templates = new TemplateLibrary();
const checks = { templateExists: (name: string) => templates.has(name) };

function compile(body: unknown): CampaignResult & { source?: string } {
  if (typeof body === 'string') return { ...parseCampaign(body, checks), source: body };
  return validateCampaign(body, checks);
}

function invalid(result: CampaignResult): ApiError {
  const errors = result.ok ? [] : result.errors;
  return new ApiError(422, 'invalid_campaign', `the campaign has ${errors.length} problem${errors.length === 1 ? '' : 's'}`, errors);
}

export const campaignRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine }) => {
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const summary = (id: string) => getCampaign(pool, id);

  app.post<{ Body: unknown }>(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Create a campaign or a new version of it',
        body: campaignBody,
        response: responses({ 200: versionSchema, 201: versionSchema, 422: { $ref: 'ApiError#' } }),
      },
    },
    async (request, reply) => {
      const result = compile(request.body);
      if (!result.ok) throw invalid(result);
      const saved = await saveCampaignVersion(pool, result.campaign, result.source);
      const version = (await getCampaignVersion(pool, result.campaign.id, saved.version))!;
      const row = (await summary(result.campaign.id))!;
      return reply
        .status(saved.created ? 201 : 200)
        .send({ id: result.campaign.id, version: saved.version, content_hash: version.contentHash, created: saved.created, status: row.status });
    },
  );

  app.post<{ Body: unknown }>(
    '/campaigns/validate',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Validate a campaign without saving it',
        body: campaignBody,
        response: responses({ 200: { type: 'object', properties: { ok: { type: 'boolean' }, id: { type: 'string' } } }, 422: { $ref: 'ApiError#' } }),
      },
    },
    async (request) => {
      const result = compile(request.body);
      if (!result.ok) throw invalid(result);
      return { ok: true, id: result.campaign.id };
    },
  );

  app.get('/campaigns', { schema: { tags: ['campaigns'], response: responses({ 200: { type: 'object', properties: { campaigns: { type: 'array', items: summarySchema } } } }) } }, async () => ({
    campaigns: await listCampaigns(pool),
  }));

  app.get<{ Params: { id: string } }>(
    '/campaigns/:id',
    {
      schema: {
        tags: ['campaigns'],
        params: campaignIdParams,
        response: responses({
          200: {
            type: 'object',
            properties: {
              campaign: summarySchema,
              definition: anyObject,
              versions: { type: 'array', items: { type: 'object', properties: { version: { type: 'integer' }, content_hash: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } } } },
            },
          },
        }),
      },
    },
    async (request) => {
      const row = await summary(request.params.id);
      if (!row) throw notFound(`campaign ${request.params.id}`);
      const [current, versions] = await Promise.all([getCampaignVersion(pool, row.id), listCampaignVersions(pool, row.id)]);
      return { campaign: row, definition: current?.definition ?? {}, versions };
    },
  );

  for (const [action, { to, from }] of Object.entries(CAMPAIGN_ACTIONS)) {
    app.post<{ Params: { id: string } }>(
      `/campaigns/:id/${action}`,
      {
        schema: {
          tags: ['campaigns'],
          summary: `${action} a campaign`,
          description: 'Takes effect at once for every email not yet sent; the open enrolments are told by a fan-out after the request (`fan_out`).',
          params: campaignIdParams,
          response: responses({ 200: { ...summarySchema, properties: { ...summarySchema.properties, fan_out: fanOutSchema } } }),
        },
      },
      async (request) => {
        const row = await summary(request.params.id);
        if (!row) throw notFound(`campaign ${request.params.id}`);
        if (!from.includes(row.status)) throw conflict(`campaign ${row.id} is ${row.status}; ${action} needs it to be ${from.join(' or ')}`);
        const statusSeq = (await setCampaignStatus(pool, row.id, to))!;
        const fanOut = await engine.campaignStatusChanged(row.id, to, statusSeq);
        return { ...(await summary(row.id)), fan_out: fanOutView(fanOut) };
      },
    );
  }

  app.get<{ Params: { id: string } }>(
    '/campaigns/:id/fan-outs',
    {
      schema: {
        tags: ['campaigns'],
        summary: "The campaign's latest fan-outs (status changes and migrations carried to its enrolments), newest first",
        params: campaignIdParams,
        response: responses({ 200: { type: 'object', properties: { fan_outs: { type: 'array', items: fanOutSchema } } } }),
      },
    },
    async (request) => {
      const row = await summary(request.params.id);
      if (!row) throw notFound(`campaign ${request.params.id}`);
      return { fan_outs: (await listFanOuts(pool, row.id)).map(fanOutView) };
    },
  );

  app.get<{ Params: { id: string; fanOutId: string } }>(
    '/campaigns/:id/fan-outs/:fanOutId',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'The progress of one fan-out',
        params: {
          type: 'object',
          required: ['id', 'fanOutId'],
          properties: { ...campaignIdParams.properties, fanOutId: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'the fan-out id' } },
        },
        response: responses({ 200: fanOutSchema }),
      },
    },
    async (request) => {
      const fanOut = await getFanOut(pool, Number(request.params.fanOutId));
      if (!fanOut || fanOut.campaignId !== request.params.id) throw notFound(`fan-out ${request.params.fanOutId} of campaign ${request.params.id}`);
      return fanOutView(fanOut);
    },
  );

  app.post<{ Params: { id: string }; Body: { lead_id: string } }>(
    '/campaigns/:id/enrolments',
    {
      schema: {
        tags: ['enrolments'],
        summary: 'Enrol a lead (idempotent)',
        params: campaignIdParams,
        body: { type: 'object', additionalProperties: false, required: ['lead_id'], properties: { lead_id: uuidSchema } },
        response: responses({
          201: { type: 'object', properties: { workflow_id: { type: 'string' }, already_enrolled: { type: 'boolean' } } },
          200: { type: 'object', properties: { workflow_id: { type: 'string' }, already_enrolled: { type: 'boolean' } } },
        }),
      },
    },
    async (request, reply) => {
      const row = await summary(request.params.id);
      if (!row) throw notFound(`campaign ${request.params.id}`);
      if (row.status !== 'active') throw conflict(`campaign ${row.id} is ${row.status}; launch it before enrolling leads`);
      const lead = await getLead(pool, request.body.lead_id);
      if (!lead || lead.erasedAt) throw notFound(`lead ${request.body.lead_id}`);
      const result = await engine.enrol(row.id, lead.id);
      return reply.status(result.alreadyEnrolled ? 200 : 201).send({ workflow_id: result.workflowId, already_enrolled: result.alreadyEnrolled });
    },
  );

  app.post<{ Params: { id: string }; Body: { to_version?: number; from_version?: number } }>(
    '/campaigns/:id/migrate',
    {
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        tags: ['campaigns'],
        summary: "Move the campaign's running enrolments to a version (default: the current one)",
        params: campaignIdParams,
        body: migrateCampaignBody,
        response: responses({
          202: { type: 'object', properties: { to_version: { type: 'integer' }, requested: { type: 'integer' }, fan_out: fanOutSchema } },
        }),
      },
    },
    async (request, reply) => {
      const row = await summary(request.params.id);
      if (!row) throw notFound(`campaign ${request.params.id}`);
      if (row.status === 'archived') throw conflict(`campaign ${row.id} is archived; its enrolments have ended`);
      const { to_version: toVersion, from_version: fromVersion } = request.body;
      const target = await getCampaignVersion(pool, row.id, toVersion);
      if (!target) throw notFound(`campaign ${row.id} version ${toVersion ?? '(current)'}`);
      if (fromVersion !== undefined && !(await getCampaignVersion(pool, row.id, fromVersion))) throw notFound(`campaign ${row.id} version ${fromVersion}`);
      const fanOut = await engine.migrateCampaign(row.id, target.version, fromVersion);
      return reply.status(202).send({ to_version: target.version, requested: fanOut.total, fan_out: fanOutView(fanOut) });
    },
  );

  app.post<{ Params: { workflowId: string }; Body: { to_version?: number } }>(
    '/enrolments/:workflowId/migrate',
    {
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        tags: ['enrolments'],
        summary: 'Move a running enrolment to a version of its campaign (default: the current one)',
        params: workflowParams,
        body: migrateEnrolmentBody,
        response: responses({
          202: { type: 'object', properties: { workflow_id: { type: 'string' }, from_version: { type: 'integer' }, to_version: { type: 'integer' } } },
        }),
      },
    },
    async (request, reply) => {
      const { workflowId } = request.params;
      const enrolment = await openEnrolment(pool, workflowId);
      if (!enrolment) throw notFound(`running enrolment ${workflowId}`);
      const row = (await summary(enrolment.campaignId))!;
      if (row.status === 'archived') throw conflict(`campaign ${row.id} is archived; its enrolments have ended`);
      const toVersion = request.body.to_version;
      const target = await getCampaignVersion(pool, row.id, toVersion);
      if (!target) throw notFound(`campaign ${row.id} version ${toVersion ?? '(current)'}`);
      if (target.version === enrolment.campaignVersion) throw conflict(`enrolment ${workflowId} is already on version ${target.version}`);
      await engine.migrateEnrolment(workflowId, target.version);
      return reply.status(202).send({ workflow_id: workflowId, from_version: enrolment.campaignVersion, to_version: target.version });
    },
  );

  app.get<{ Params: { workflowId: string } }>(
    '/enrolments/:workflowId',
    { schema: { tags: ['enrolments'], summary: "The enrolment's live state", params: workflowParams, response: responses({ 200: { type: 'object', properties: { workflow_id: { type: 'string' }, state: {} } } }) } },
    async (request) => {
      const state = await engine.enrolmentState(request.params.workflowId);
      if (state === undefined) throw notFound(`enrolment ${request.params.workflowId}`);
      return { workflow_id: request.params.workflowId, state };
    },
  );

  app.delete<{ Params: { workflowId: string } }>(
    '/enrolments/:workflowId',
    { schema: { tags: ['enrolments'], summary: 'Exit an enrolment', params: workflowParams, response: responses({ 202: { type: 'object', properties: { workflow_id: { type: 'string' } } } }) } },
    async (request, reply) => {
      const { workflowId } = request.params;
      if (!(await openEnrolment(pool, workflowId)) && (await engine.enrolmentState(workflowId)) === undefined) throw notFound(`enrolment ${workflowId}`);
      await engine.exitEnrolment(workflowId, 'exited through the API');
      return reply.status(202).send({ workflow_id: workflowId });
    },
  );
};
