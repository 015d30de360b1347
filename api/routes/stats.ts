// Campaign statistics (see db/stats.ts for what each figure counts).
import type { FastifyPluginAsync } from 'fastify';
import { getCampaign } from '../../db/campaigns';
import { campaignStats } from '../../db/stats';
import type { ApiContext } from '../context';
import { notFound, responses } from '../errors';
import { campaignIdParams } from './shared-schemas';

const figures = {
  sent: { type: 'integer' },
  opened: { type: 'integer' },
  clicked: { type: 'integer' },
  human_opened: { type: 'integer' },
  human_clicked: { type: 'integer' },
};

export const statsRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool }) => {
  app.get<{ Params: { id: string } }>(
    '/campaigns/:id/stats',
    {
      schema: {
        tags: ['stats'],
        summary: 'Funnel per stage, results per step and per variant, A/B verdicts, SLA compliance',
        params: campaignIdParams,
        response: responses({
          200: {
            type: 'object',
            properties: {
              campaign_id: { type: 'string' },
              funnel: {
                type: 'object',
                properties: {
                  enrolled: { type: 'integer' },
                  by_stage: { type: 'object', additionalProperties: { type: 'integer' } },
                  by_status: { type: 'object', additionalProperties: { type: 'integer' } },
                  reached: { type: 'object', additionalProperties: { type: 'integer' } },
                  transitions: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, count: { type: 'integer' } } } },
                },
              },
              steps: { type: 'array', items: { type: 'object', properties: { step: { type: ['string', 'null'] }, template: { type: 'string' }, ...figures } } },
              variants: { type: 'array', items: { type: 'object', properties: { ab_test: { type: 'string' }, variant: { type: 'string' }, ...figures } } },
              ab_tests: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    test_key: { type: 'string', description: 'the step path of the A/B email' },
                    winner: { type: ['string', 'null'], description: 'null while undecided' },
                    campaign_version: { type: ['integer', 'null'], description: 'the version the verdict was decided in' },
                    p_value: { type: ['number', 'null'] },
                    decided_at: { type: ['string', 'null'], format: 'date-time' },
                    decided_on: {
                      description: 'per variant: sends, human opens and human clicks when the verdict was decided',
                      anyOf: [
                        { type: 'null' },
                        {
                          type: 'array',
                          items: { type: 'object', properties: { variant: { type: 'string' }, sends: { type: 'integer' }, opens: { type: 'integer' }, clicks: { type: 'integer' } } },
                        },
                      ],
                    },
                  },
                },
              },
              sla: {
                type: 'object',
                properties: {
                  handoffs: { type: 'integer' },
                  answered: { type: 'integer' },
                  answered_in_time: { type: 'integer' },
                  overdue: { type: 'integer' },
                  compliance: { type: ['number', 'null'], description: 'answered before first_contact_due / all handoffs' },
                },
              },
            },
          },
        }),
      },
    },
    async (request) => {
      if (!(await getCampaign(pool, request.params.id))) throw notFound(`campaign ${request.params.id}`);
      return { campaign_id: request.params.id, ...(await campaignStats(pool, request.params.id)) };
    },
  );
};
