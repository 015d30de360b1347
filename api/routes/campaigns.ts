// Campaigns and enrolments. A campaign is posted as YAML (application/yaml) or JSON, validated by
// the campaign core (errors: 422 with path, message and line) and stored as an immutable
// version named by its content hash (the same content again is the same version).
// Status changes: draft|paused → active (launch/resume), active → paused, any → archived.
// Running enrolments keep their version until migrated explicitly, per campaign or per enrolment.
// A status change or a campaign-wide migration reaches the open enrolments through a fan-out
// (workflows/campaign-fanout.ts) that runs after the request: the answer carries its progress,
// and GET /campaigns/:id/fan-outs/:fanOutId follows it.
//
// Reading a campaign runs in a worker thread (api/campaign-thread.ts): a large YAML text takes
// hundreds of milliseconds to parse, which the event loop must not wait on. The text is bounded
// by the body limit (MAX_CAMPAIGN_BODY, 413 above it) and by the campaign core's limits
// (CAMPAIGN_TEXT_LIMITS: nesting, aliases; 422 naming the problem and its line).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CAMPAIGN_ACTIONS, CAMPAIGN_TEXT_LIMITS, type Campaign, type CampaignError } from '../../campaign';
import { getCampaign, getCampaignVersion, listCampaigns, listCampaignVersions, saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { enrolmentRecorded, openEnrolment } from '../../db/enrolments';
import { getFanOut, listFanOuts, type FanOut } from '../../db/fanouts';
import { getLead } from '../../db/leads';
import { seenEventTypes, seenLeadAttributes } from '../../db/vocabulary';
import { TemplateLibrary } from '../../mail/renderer';
import type { CompileInput, CompileOutput } from '../campaign-thread';
import type { ApiContext } from '../context';
import { ApiError, conflict, errorResponse, notFound, responses } from '../errors';
import { ThreadFailure, ThreadPool, ThreadsBusy, ThreadTimeout } from '../threads';
import { anyObject, campaignIdParams, uuidSchema } from './shared-schemas';

const workflowParams = { type: 'object', required: ['workflowId'], properties: { workflowId: { type: 'string', minLength: 1, maxLength: 400 } } };
const campaignBody = {
  type: ['object', 'string'],
  description: 'the campaign definition: a JSON object, or YAML/JSON text sent as application/yaml',
};

/** What would not fail but probably does not do what was meant (a misspelt event type, a stage no score reaches): campaigns/README.md, "Warnings". */
const warningsSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { path: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, suggestion: { type: 'string' } },
  },
};
const versionSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, version: { type: 'integer' }, content_hash: { type: 'string' }, created: { type: 'boolean' }, status: { type: 'string' }, warnings: warningsSchema },
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

/** The largest campaign body in bytes (YAML text or JSON), refused with 413 unread beyond it. */
export const MAX_CAMPAIGN_BODY = CAMPAIGN_TEXT_LIMITS.maxLength;

/** How long reading one campaign may take in its thread (the worst text the limits admit takes about 2 s). */
export const CAMPAIGN_READ_TIMEOUT_MS = 15_000;

/** The campaign's problems: 422 with path, message and line (the first MAX_REPORTED_PROBLEMS of them). */
function invalid(output: Extract<CompileOutput, { ok: false }>): ApiError {
  const count = `${output.total} problem${output.total === 1 ? '' : 's'}`;
  const listed = output.total > output.errors.length ? `; the first ${output.errors.length} are listed` : '';
  return new ApiError(422, 'invalid_campaign', `the campaign has ${count}${listed}`, output.errors);
}

/** A campaign the thread could not read within its time or memory: refused like any other problem of the text. */
const unreadable = (message: string) => new ApiError(422, 'invalid_campaign', `the campaign has 1 problem`, [{ path: '(file)', message }]);

const campaignResponses = {
  413: errorResponse(`payload_too_large: the body is larger than ${MAX_CAMPAIGN_BODY} bytes`),
  422: errorResponse(
    `invalid_campaign: the campaign's problems, each with path, message and line — including a text nested more than ${CAMPAIGN_TEXT_LIMITS.maxDepth} ` +
      `levels deep, with more than ${CAMPAIGN_TEXT_LIMITS.maxAliases} aliases or aliases that expand too much, and malformed YAML or JSON`,
  ),
  429: errorResponse('busy: too many campaigns are being read at once (this key has 4 in progress, or 16 wait in all); retry after Retry-After seconds'),
};

export const campaignRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine }) => {
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // One thread reads campaigns, one at a time; at most 16 wait, and 4 per API key.
  const reader = new ThreadPool({ entry: new URL('../campaign-thread.ts', import.meta.url), size: 1, maxQueue: 16, idleMs: 5 * 60_000, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  app.addHook('onClose', () => reader.close());
  const reading = new Map<string, number>();
  const PER_KEY = 4;
  // The campaign routes' own body limit, never above the API's (ApiOptions.bodyLimit).
  const bodyLimit = Math.min(app.initialConfig.bodyLimit ?? MAX_CAMPAIGN_BODY, MAX_CAMPAIGN_BODY);

  /** The names the data has used, for the warnings about misspelt ones (bounded samples: db/vocabulary.ts). */
  const knownNames = async () => {
    const [knownEventTypes, knownAttributes] = await Promise.all([seenEventTypes(pool), seenLeadAttributes(pool)]);
    return { knownEventTypes, knownAttributes };
  };

  /** The request's body (YAML/JSON text, or a JSON object) read into a campaign off the event loop. */
  async function compile(request: FastifyRequest, reply: FastifyReply, hash = false, body = request.body): Promise<{ campaign: Campaign; warnings: CampaignError[]; hash?: string; source?: string }> {
    const keyId = request.apiKey?.id ?? request.ip;
    const busy = () => {
      reply.header('retry-after', '5');
      return new ApiError(429, 'busy', 'too many campaigns are being read at once; retry in a few seconds');
    };
    const checks = { templates: templates.names(), ...(await knownNames()), hash };
    const input: CompileInput = typeof body === 'string' ? { text: body, ...checks } : { value: body, ...checks };
    if ((reading.get(keyId) ?? 0) >= PER_KEY) throw busy();
    reading.set(keyId, (reading.get(keyId) ?? 0) + 1);
    let output: CompileOutput;
    try {
      output = await reader.run<CompileOutput>('compile', input, CAMPAIGN_READ_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof ThreadsBusy) throw busy();
      if (error instanceof ThreadTimeout) throw unreadable(`reading the campaign took longer than ${CAMPAIGN_READ_TIMEOUT_MS / 1000} s`);
      if (error instanceof ThreadFailure && error.outOfMemory) throw unreadable('reading the campaign needs more memory than allowed');
      throw error;
    } finally {
      const left = reading.get(keyId)! - 1;
      if (left) reading.set(keyId, left);
      else reading.delete(keyId);
    }
    if (!output.ok) throw invalid(output);
    return { campaign: output.campaign, warnings: output.warnings, hash: output.hash, source: typeof body === 'string' ? body : undefined };
  }

  const summary = (id: string) => getCampaign(pool, id);

  app.post<{ Body: unknown }>(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Create a campaign or a new version of it',
        body: campaignBody,
        response: responses({ 200: versionSchema, 201: versionSchema, ...campaignResponses }),
      },
      bodyLimit,
    },
    async (request, reply) => {
      const result = await compile(request, reply, true);
      const saved = await saveCampaignVersion(pool, result.campaign, result.source, result.hash);
      const version = (await getCampaignVersion(pool, result.campaign.id, saved.version))!;
      const row = (await summary(result.campaign.id))!;
      return reply
        .status(saved.created ? 201 : 200)
        .send({ id: result.campaign.id, version: saved.version, content_hash: version.contentHash, created: saved.created, status: row.status, warnings: result.warnings });
    },
  );

  app.post<{ Body: unknown }>(
    '/campaigns/validate',
    {
      // A POST for its body, but it stores and changes nothing: a read key may run it.
      config: { scope: 'read' },
      schema: {
        tags: ['campaigns'],
        summary: 'Validate a campaign without saving it (a read key is enough)',
        body: campaignBody,
        response: responses({ 200: { type: 'object', properties: { ok: { type: 'boolean' }, id: { type: 'string' }, warnings: warningsSchema } }, ...campaignResponses }),
      },
      bodyLimit,
    },
    async (request, reply) => {
      const result = await compile(request, reply);
      return { ok: true, id: result.campaign.id, warnings: result.warnings };
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
              warnings: { ...warningsSchema, description: 'Warnings about the current version as written (its text read again with the names the data has used by now)' },
              versions: { type: 'array', items: { type: 'object', properties: { version: { type: 'integer' }, content_hash: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } } } },
            },
          },
        }),
      },
    },
    async (request, reply) => {
      const row = await summary(request.params.id);
      if (!row) throw notFound(`campaign ${request.params.id}`);
      const [current, versions] = await Promise.all([getCampaignVersion(pool, row.id), listCampaignVersions(pool, row.id)]);
      // The source was valid when saved; the names known since may add or remove warnings.
      const warnings = current?.source === undefined ? [] : await compile(request, reply, false, current.source).then((result) => result.warnings, () => []);
      return { campaign: row, definition: current?.definition ?? {}, versions, warnings };
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
      // Only enrolments Nurture recorded: any other workflow of the namespace is none of the API's business.
      if (!(await enrolmentRecorded(pool, request.params.workflowId))) throw notFound(`enrolment ${request.params.workflowId}`);
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
      // Only enrolments Nurture recorded: any other workflow of the namespace is none of the API's business.
      if (!(await enrolmentRecorded(pool, workflowId))) throw notFound(`enrolment ${workflowId}`);
      await engine.exitEnrolment(workflowId, 'exited through the API');
      return reply.status(202).send({ workflow_id: workflowId });
    },
  );
};
