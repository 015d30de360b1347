// Campaign launches to leads already known: a segment (a condition of the campaign language over
// `lead`, `consent` and behaviour) or a list of lead ids or addresses. The request records the
// launch and answers 202; the workers' launcher queues an entry event per qualifying lead and the
// dispatcher enrols them (re-entry rules apply), so GET shows the progress.
import type { FastifyPluginAsync } from 'fastify';
import { conditionProblem } from '../../campaign/conditions';
import { addressHash } from '../../db/addresses';
import { getCampaign } from '../../db/campaigns';
import { cancelLaunch, createLaunch, getLaunch, launchesOf, type Launch } from '../../db/launches';
import { unerasedLeadIdsByHash } from '../../db/leads';
import type { ApiContext } from '../context';
import { badRequest, conflict, notFound, responses } from '../errors';
import { campaignIdParams, emailSchema, uuidSchema } from './shared-schemas';

/** The most leads one listed launch names (about 4 MB of ids). */
export const MAX_LAUNCH_LIST = 100_000;

const launchParams = {
  type: 'object',
  required: ['id', 'launchId'],
  properties: { ...campaignIdParams.properties, launchId: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'the launch id' } },
};
const counts = { type: 'object', additionalProperties: { type: 'integer' } };

export const launchSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    campaign_id: { type: 'string' },
    segment: { type: ['string', 'null'] },
    listed: { type: ['integer', 'null'], description: 'how many leads the list named' },
    per_minute: { type: ['integer', 'null'] },
    status: { type: 'string', enum: ['running', 'done', 'cancelled'] },
    total: { type: 'integer', description: 'candidates when it started: unerased leads (segment) or listed ones found' },
    scanned: { type: 'integer' },
    queued: { type: 'integer', description: 'matched, consenting and not suppressed: queued for enrolment' },
    skipped: { ...counts, description: 'candidates left out, by reason: not_matching, no_consent, suppressed' },
    enrolled: { type: 'integer' },
    not_entered: { ...counts, description: 'queued leads not enrolled, by reason: already_enrolled, reentry, campaign_not_active, erased' },
    complete: { type: 'boolean', description: 'every candidate scanned and every queued lead enrolled or refused' },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export function launchView(launch: Launch) {
  const handled = launch.enrolled + Object.values(launch.notEntered).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    id: launch.id,
    campaign_id: launch.campaignId,
    segment: launch.segment,
    listed: launch.leadIds?.length ?? null,
    per_minute: launch.perMinute,
    status: launch.status,
    total: launch.total,
    scanned: launch.scanned,
    queued: launch.queued,
    skipped: launch.skipped,
    enrolled: launch.enrolled,
    not_entered: launch.notEntered,
    complete: launch.status !== 'running' && handled >= launch.queued,
    created_at: launch.createdAt,
    finished_at: launch.finishedAt,
  };
}

interface LaunchBody {
  segment?: string;
  lead_ids?: string[];
  emails?: string[];
  per_minute?: number;
}

export const launchRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool }) => {
  async function campaignNamed(id: string) {
    const campaign = await getCampaign(pool, id);
    if (!campaign) throw notFound(`campaign ${id}`);
    return campaign;
  }

  app.post<{ Params: { id: string }; Body: LaunchBody }>(
    '/campaigns/:id/launches',
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        tags: ['campaigns'],
        summary: 'Launch an active campaign to the leads of a segment or a list',
        description:
          'Exactly one of `segment` (a condition over `lead`, `consent` and behaviour functions, as in the campaign language), `lead_ids` or `emails`. ' +
          'Leads without the campaign\'s consent or with a suppressed address are skipped; the re-entry rule decides for leads that were in the campaign. ' +
          'Answers 202 at once; follow GET /campaigns/{id}/launches/{launchId}.',
        params: campaignIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            segment: { type: 'string', minLength: 1, maxLength: 4000 },
            lead_ids: { type: 'array', minItems: 1, maxItems: MAX_LAUNCH_LIST, items: uuidSchema },
            emails: { type: 'array', minItems: 1, maxItems: MAX_LAUNCH_LIST, items: emailSchema },
            per_minute: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'pace: at most this many leads queued a minute (default: as fast as the engine takes them)' },
          },
        },
        response: responses({
          202: { type: 'object', properties: { ...launchSchema.properties, unknown_emails: { type: 'array', items: { type: 'string' }, description: 'listed addresses of no (unerased) lead, at most 20' } } },
        }),
      },
    },
    async (request, reply) => {
      const { segment, lead_ids: ids, emails, per_minute: perMinute } = request.body;
      const given = [segment, ids, emails].filter((value) => value !== undefined).length;
      if (given !== 1) throw badRequest('give exactly one of segment, lead_ids or emails');
      if (segment !== undefined) {
        const problem = conditionProblem(segment);
        if (problem) throw badRequest(`segment: ${problem}`, { field: 'segment' });
      }
      const campaign = await campaignNamed(request.params.id);
      if (campaign.status !== 'active') throw conflict(`campaign ${campaign.id} is ${campaign.status}; a launch needs it active (POST /campaigns/${campaign.id}/launch)`);

      let leadIds = ids;
      let unknown: string[] = [];
      if (emails) {
        const byHash = await unerasedLeadIdsByHash(pool, [...new Set(emails.map(addressHash))]);
        leadIds = [];
        for (const email of emails) {
          const id = byHash.get(addressHash(email));
          if (id) leadIds.push(id);
          else unknown.push(email);
        }
        if (leadIds.length === 0) throw badRequest('none of the listed addresses is a known lead', { unknown_emails: unknown.slice(0, 20) });
        unknown = unknown.slice(0, 20);
      }
      const launch = await createLaunch(pool, { campaignId: campaign.id, segment, leadIds, perMinute });
      return reply.status(202).send({ ...launchView(launch), ...(emails ? { unknown_emails: unknown } : {}) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/campaigns/:id/launches',
    {
      schema: {
        tags: ['campaigns'],
        summary: "The campaign's latest launches, newest first",
        params: campaignIdParams,
        response: responses({ 200: { type: 'object', properties: { launches: { type: 'array', items: launchSchema } } } }),
      },
    },
    async (request) => {
      const campaign = await campaignNamed(request.params.id);
      return { launches: (await launchesOf(pool, campaign.id)).map(launchView) };
    },
  );

  const launchOf = async (params: { id: string; launchId: string }) => {
    const launch = await getLaunch(pool, Number(params.launchId));
    if (!launch || launch.campaignId !== params.id) throw notFound(`launch ${params.launchId} of campaign ${params.id}`);
    return launch;
  };

  app.get<{ Params: { id: string; launchId: string } }>(
    '/campaigns/:id/launches/:launchId',
    { schema: { tags: ['campaigns'], summary: 'The progress of one launch', params: launchParams, response: responses({ 200: launchSchema }) } },
    async (request) => launchView(await launchOf(request.params)),
  );

  app.post<{ Params: { id: string; launchId: string } }>(
    '/campaigns/:id/launches/:launchId/cancel',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Stop a running launch (leads already queued are still enrolled)',
        params: launchParams,
        response: responses({ 200: launchSchema }),
      },
    },
    async (request) => {
      const launch = await launchOf(request.params);
      if (!(await cancelLaunch(pool, launch.id))) throw conflict(`launch ${launch.id} is ${launch.status}; only a running launch can be cancelled`);
      return launchView((await getLaunch(pool, launch.id))!);
    },
  );
};
