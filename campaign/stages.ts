// Stage from score, with hysteresis: a lead moves up as soon as it reaches a threshold but
// moves down only when its score falls `hysteresis` points below it, so a score hovering at a
// boundary does not flap between tracks.
import type { Campaign, Stage } from './types';

const RANK: Record<Stage, number> = { cold: 0, warm: 1, hot: 2 };

function stageOf(campaign: Campaign, score: number): Stage {
  if (score >= campaign.stages.hot) return 'hot';
  if (score >= campaign.stages.warm) return 'warm';
  return 'cold';
}

export function nextStage(campaign: Campaign, current: Stage, score: number): Stage {
  const up = stageOf(campaign, score);
  if (RANK[up] > RANK[current]) return up;
  const down = stageOf(campaign, score + campaign.stages.hysteresis);
  return RANK[down] < RANK[current] ? down : current;
}

export function stageThreshold(campaign: Campaign, stage: Stage): number {
  return stage === 'cold' ? 0 : campaign.stages[stage];
}
