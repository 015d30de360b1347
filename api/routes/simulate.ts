// Dry-run of a campaign: the pure simulator (campaign/simulator.ts, the same one `nurture
// simulate` runs) over synthetic leads in virtual time, on the campaign's current version. It
// reads and stores nothing but the definition, so a read key may run it (config.scope below).
//
// The simulator runs on the request's thread: the bounds keep the largest run to a few seconds.
import type { FastifyPluginAsync } from 'fastify';
import { simulate, type SimulationResult } from '../../campaign/simulator';
import { getCampaignVersion } from '../../db/campaigns';
import type { ApiContext } from '../context';
import { notFound, responses } from '../errors';
import { campaignIdParams } from './shared-schemas';

export const SIMULATION_LIMITS = { leads: 20_000, days: 365 };

const count = { type: 'integer' } as const;
const emailFigures = { type: 'object', properties: { sent: count, opened: count, clicked: count, unsubscribed: count } } as const;
const variantFigures = { type: 'object', properties: { variant: { type: 'string' }, sends: count, opens: count, clicks: count } } as const;

const reportSchema = {
  type: 'object',
  properties: {
    campaign_id: { type: 'string' },
    campaign_version: count,
    leads: count,
    days: count,
    seed: count,
    funnel: {
      type: 'object',
      properties: {
        enrolled: count,
        reached_warm: count,
        reached_hot: count,
        handed_off: count,
        accepted: count,
        recycled: count,
        converted: count,
        unsubscribed: count,
        exited: { type: 'object', additionalProperties: count, description: 'exits by reason' },
      },
    },
    steps: { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, ...emailFigures.properties } } },
    ab_tests: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          test_key: { type: 'string' },
          variants: { type: 'array', items: variantFigures },
          winner: { type: ['string', 'null'] },
          p_value: { type: 'number' },
          decided_after_sends: { type: ['integer', 'null'] },
          reason: { type: 'string' },
        },
      },
    },
    time_to_qualify_days: {
      type: 'object',
      description: 'days from enrolment to the first handoff, for the leads handed off',
      properties: { count, p10: { type: ['number', 'null'] }, p50: { type: ['number', 'null'] }, p90: { type: ['number', 'null'] }, mean: { type: ['number', 'null'] } },
    },
  },
} as const;

/** The simulator's report in the API's spelling (snake_case, lists rather than maps). */
export function simulationJson(result: SimulationResult) {
  const f = result.funnel;
  const q = result.timeToQualifyDays;
  return {
    leads: result.leads,
    days: result.days,
    seed: result.seed,
    funnel: {
      enrolled: f.enrolled,
      reached_warm: f.reachedWarm,
      reached_hot: f.reachedHot,
      handed_off: f.handedOff,
      accepted: f.accepted,
      recycled: f.recycled,
      converted: f.converted,
      unsubscribed: f.unsubscribed,
      exited: f.exited,
    },
    // Step paths in reading order: tracks.cold[2] before tracks.cold[10].
    steps: Object.entries(result.steps)
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([step, figures]) => ({ step, ...figures })),
    ab_tests: Object.entries(result.abTests).map(([testKey, test]) => ({
      test_key: testKey,
      variants: test.variants,
      winner: test.winner ?? null,
      p_value: test.pValue,
      decided_after_sends: test.decidedAfterSends ?? null,
      reason: test.reason,
    })),
    time_to_qualify_days: { count: q.count, p10: q.p10 ?? null, p50: q.p50 ?? null, p90: q.p90 ?? null, mean: q.mean ?? null },
  };
}

export const simulationRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool }) => {
  app.post<{ Params: { id: string }; Body: { leads: number; days: number; seed: number } }>(
    '/campaigns/:id/simulate',
    {
      // A POST for its body, but it stores and changes nothing: a read key may run it.
      config: { scope: 'read' },
      schema: {
        tags: ['campaigns'],
        summary: "Simulate the campaign's current version over synthetic leads: projected funnel, steps and A/B outcome",
        params: campaignIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            leads: { type: 'integer', minimum: 1, maximum: SIMULATION_LIMITS.leads, default: 1000 },
            days: { type: 'integer', minimum: 1, maximum: SIMULATION_LIMITS.days, default: 90 },
            seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 1, description: 'the same seed gives the same report' },
          },
        },
        response: responses({ 200: reportSchema }),
      },
      // No body at all means the defaults, as an empty object does.
      preValidation: async (request) => {
        request.body ??= {} as typeof request.body;
      },
    },
    async (request) => {
      const version = await getCampaignVersion(pool, request.params.id);
      if (!version) throw notFound(`campaign ${request.params.id}`);
      const { leads, days, seed } = request.body;
      const result = simulate(version.definition, { leads, days, seed });
      return { campaign_id: version.campaignId, campaign_version: version.version, ...simulationJson(result) };
    },
  );
};
