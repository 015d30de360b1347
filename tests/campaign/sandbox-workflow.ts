// A minimal workflow that runs the interpreter: bundled by bundle.test.ts to prove the
// campaign core loads in Temporal's workflow sandbox.
import { describeState, initialState, step } from '../../campaign/interpreter';
import type { Campaign, LeadSnapshot } from '../../campaign/types';

export async function interpretOnce(campaign: Campaign, lead: LeadSnapshot): Promise<unknown> {
  const state = initialState(campaign, lead, Date.now());
  const { state: next, commands } = step(campaign, state, { type: 'start' }, Date.now());
  return { commands, view: describeState(campaign, next, Date.now()) };
}
