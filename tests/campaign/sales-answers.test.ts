// Which answer a handoff accepts when: one rule, used by the API, the signed links, the workflow's
// validator and the interpreter.
import { describe, expect, it } from 'vitest';
import { acceptsAnswer, answerRefusal, HANDOFF_STATUSES, initialState, SALES_OUTCOMES, step, type HandoffStatus, type SalesOutcome } from '../../campaign';
import { HOUR, lead, loadCampaign, TUESDAY_10_JST } from './support';

describe('sales answers', () => {
  it('a pending handoff takes every answer, an accepted one every other, a closed one none', () => {
    const table = Object.fromEntries(HANDOFF_STATUSES.map((status) => [status, SALES_OUTCOMES.filter((outcome) => acceptsAnswer(status, outcome))]));
    expect(table).toEqual({
      pending: ['accepted', 'not_ready', 'disqualified', 'converted'],
      accepted: ['not_ready', 'disqualified', 'converted'],
      not_ready: [],
      disqualified: [],
      converted: [],
    });
  });

  it('names the answer already given, or the status that refuses the new one', () => {
    expect(answerRefusal('h-1', 'pending', 'accepted')).toBeUndefined();
    expect(answerRefusal('h-1', 'accepted', 'accepted')).toBe("handoff h-1 was already answered 'accepted'");
    expect(answerRefusal('h-1', 'not_ready', 'disqualified')).toBe("handoff h-1 is 'not_ready' and cannot become 'disqualified'");
  });

  it('the interpreter ignores an answer the handoff does not take', () => {
    const campaign = loadCampaign('saas-whitepaper-nurture');
    let state = initialState(campaign, lead(), TUESDAY_10_JST);
    const feed = (input: Parameters<typeof step>[2], at: number) => {
      const result = step(campaign, state, input, at);
      state = result.state;
      return result.commands;
    };
    // Fit 35, the download 10, two pricing views 30: qualified; then "not ready" closes the handoff.
    feed({ type: 'start' }, TUESDAY_10_JST);
    feed({ type: 'event', event: { id: 'e0', type: 'asset.downloaded', at: TUESDAY_10_JST, data: { asset: 'whitepaper' } } }, TUESDAY_10_JST);
    for (let i = 1; i <= 2; i++) feed({ type: 'event', event: { id: `e${i}`, type: 'page.viewed', at: TUESDAY_10_JST, data: { page: 'pricing' } } }, TUESDAY_10_JST);
    const key = state.handoff?.key;
    expect(key, 'the lead qualified').toBeDefined();
    const answers: [SalesOutcome, HandoffStatus | 'exited'][] = [
      ['not_ready', 'not_ready'],
      ['disqualified', 'not_ready'],
      ['accepted', 'not_ready'],
    ];
    for (const [outcome, after] of answers) {
      expect(feed({ type: 'sales_response', handoffKey: key!, outcome }, TUESDAY_10_JST + HOUR).filter((command) => command.type === 'exit')).toEqual([]);
      expect(state.exited ? 'exited' : state.handoff?.status).toBe(after);
    }
  });
});
