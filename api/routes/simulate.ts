// Dry-run of a campaign: the pure simulator (campaign/simulator.ts, the same one `nurture
// simulate` runs) over synthetic leads in virtual time, on the campaign's current version. It
// stores nothing, but the largest run takes seconds of CPU: it needs the write scope, runs in a
// worker thread (api/campaign-thread.ts) so that the API keeps answering meanwhile, one at a time
// per API key and two at a time in all (429 beyond), and is stopped after timeoutMs (422).
import { availableParallelism } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import type { SimulationResult } from '../../campaign/simulator';
import { describeAbPlan } from '../../campaign';
import { getCampaignVersion } from '../../db/campaigns';
import type { SimulateInput, SimulateOutput } from '../campaign-thread';
import type { ApiContext } from '../context';
import { ApiError, errorResponse, notFound, responses } from '../errors';
import { ThreadFailure, ThreadPool, ThreadTimeout } from '../threads';
import { campaignIdParams } from './shared-schemas';

/**
 * The bounds of a simulation: its size (leads × days, checked by the schema), how long it may run
 * in its thread, and how many run at once per API key and in all — one core fewer than the
 * machine has (at least one), so that a core is always left to answer requests. Tests shorten timeoutMs.
 */
export const SIMULATION_LIMITS = { leads: 20_000, days: 365, timeoutMs: 60_000, perKey: 1, concurrent: Math.max(1, availableParallelism() - 1) };

const count = { type: 'integer' } as const;
const emailFigures = {
  type: 'object',
  properties: {
    label: { type: ['string', 'null'] },
    subject: { type: 'string', description: 'the subject of its first send' },
    sent: count,
    opened: { ...count, description: 'human opens' },
    clicked: count,
    unsubscribed: count,
    machine_opened: count,
    bounced: count,
    not_sent: {
      type: 'object',
      additionalProperties: count,
      description: 'times the email did not go when its step came, by reason: skipped (no_consent, send_by, sent_before) or deferred (window, cap)',
    },
  },
} as const;
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
        not_enrolled: { ...count, description: 'leads whose entry event did not satisfy entry.where' },
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
    sends_by_day: { type: 'array', items: count, description: 'emails sent on each virtual day, day 0 first' },
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
          plan: { type: 'string', description: 'before launch: the lift the test finds and the sends per variant it takes' },
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
      not_enrolled: f.notEnrolled,
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
      .map(([step, f]) => ({ step, label: f.label ?? null, subject: f.subject, sent: f.sent, opened: f.opened, clicked: f.clicked, unsubscribed: f.unsubscribed, machine_opened: f.machineOpened, bounced: f.bounced, not_sent: f.notSent })),
    sends_by_day: result.sendsByDay,
    ab_tests: Object.entries(result.abTests).map(([testKey, test]) => ({
      test_key: testKey,
      variants: test.variants,
      winner: test.winner ?? null,
      p_value: test.pValue,
      decided_after_sends: test.decidedAfterSends ?? null,
      reason: test.reason,
      plan: describeAbPlan(test.plan),
    })),
    time_to_qualify_days: { count: q.count, p10: q.p10 ?? null, p50: q.p50 ?? null, p90: q.p90 ?? null, mean: q.mean ?? null },
  };
}

export const simulationRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool }) => {
  const threads = new ThreadPool({
    entry: new URL('../campaign-thread.ts', import.meta.url),
    size: SIMULATION_LIMITS.concurrent,
    maxQueue: 0,
    idleMs: 60_000,
    // The largest run of the demo campaign uses about 40 MB.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  app.addHook('onClose', () => threads.close());
  /** Simulations running, per API key. */
  const running = new Map<string, number>();
  let total = 0;

  app.post<{ Params: { id: string }; Body: { leads: number; days: number; seed: number } }>(
    '/campaigns/:id/simulate',
    {
      // It stores nothing, but costs seconds of CPU: only keys that may change things run it.
      config: { scope: 'write' },
      schema: {
        tags: ['campaigns'],
        summary: "Simulate the campaign's current version over synthetic leads: projected funnel, steps and A/B outcome",
        description:
          `Needs the write scope. Runs off the request thread, at most ${SIMULATION_LIMITS.perKey} at a time per API key and ` +
          `${SIMULATION_LIMITS.concurrent} in all, for at most ${SIMULATION_LIMITS.timeoutMs / 1000} s.`,
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
        response: responses({
          200: reportSchema,
          403: errorResponse('forbidden: the API key lacks the write scope'),
          404: errorResponse('not_found: no such campaign'),
          422: errorResponse(`simulation_timeout: the simulation did not finish within ${SIMULATION_LIMITS.timeoutMs / 1000} s (or needed more memory than allowed); simulate fewer leads or days`),
          429: errorResponse(
            `too_many_simulations: this API key already runs ${SIMULATION_LIMITS.perKey === 1 ? 'a simulation' : `${SIMULATION_LIMITS.perKey} simulations`}, ` +
              `or ${SIMULATION_LIMITS.concurrent} run in all; retry after Retry-After seconds`,
          ),
        }),
      },
      // No body at all means the defaults, as an empty object does.
      preValidation: async (request) => {
        request.body ??= {} as typeof request.body;
      },
    },
    async (request, reply) => {
      // Taken before the first await, so that two requests at once cannot both pass.
      const key = request.apiKey?.id ?? request.ip;
      const mine = running.get(key) ?? 0;
      if (mine >= SIMULATION_LIMITS.perKey || total >= SIMULATION_LIMITS.concurrent) {
        reply.header('retry-after', '10');
        throw new ApiError(
          429,
          'too_many_simulations',
          mine >= SIMULATION_LIMITS.perKey
            ? `this API key already runs ${SIMULATION_LIMITS.perKey === 1 ? 'a simulation' : `${mine} simulations`}; wait for it to finish`
            : `${total === 1 ? 'a simulation is' : `${total} simulations are`} running, the most the API runs at once; retry in a few seconds`,
        );
      }
      running.set(key, mine + 1);
      total += 1;
      try {
        const version = await getCampaignVersion(pool, request.params.id);
        if (!version) throw notFound(`campaign ${request.params.id}`);
        const { leads, days, seed } = request.body;
        const input: SimulateInput = { definition: version.definition, leads, days, seed };
        let result: SimulateOutput;
        try {
          result = await threads.run<SimulateOutput>('simulate', input, SIMULATION_LIMITS.timeoutMs);
        } catch (error) {
          if (error instanceof ThreadTimeout || (error instanceof ThreadFailure && error.outOfMemory)) {
            const why = error instanceof ThreadTimeout ? `did not finish within ${SIMULATION_LIMITS.timeoutMs / 1000} s` : 'needed more memory than allowed';
            throw new ApiError(422, 'simulation_timeout', `the simulation of ${leads} leads over ${days} days ${why} and was stopped; simulate fewer leads or days`);
          }
          throw error;
        }
        return { campaign_id: version.campaignId, campaign_version: version.version, ...simulationJson(result) };
      } finally {
        total -= 1;
        const left = running.get(key)! - 1;
        if (left) running.set(key, left);
        else running.delete(key);
      }
    },
  );
};
