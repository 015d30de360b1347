// The campaign core's public API. Workflows import `./interpreter` directly, which keeps
// YAML parsing and the holiday tables out of the workflow bundle.
export * from './types';
export * from './sales-answers';
export * from './campaign-status';
export { unreachable } from './unreachable';
export { parseCampaign, validateCampaign, campaignHash, formatCampaignError, CAMPAIGN_TEXT_LIMITS, type CampaignResult } from './parse';
export type { CompileOptions } from './schema';
export { initialState, step, stepInPlace, describeState, currentScore, type EnrolmentState, type InitialStateOptions, type StateView } from './interpreter';
export { migrateState } from './migration';
export { assignVariant } from './ab';
export { abDecision, abSettings, abTestPlans, describeAbPlan, evaluateAbTest, planAbTest, DEFAULT_AB, DEFAULT_EXPECTED_RATE, type AbEvaluationOptions, type AbPlan, type AbVerdict, type VariantStats } from './ab-test';
export { addBusinessTime, isWindowOpen, nextWindowOpening, windowOffsetMs, windowSpreadMs, windowZone, DEFAULT_WINDOW_SPREAD_MS } from './calendar';
export { parseDuration, formatDuration } from './duration';
export { CONDITION_FUNCTIONS } from './conditions';
export {
  actionsInOrder,
  checkExpectations,
  compileScenario,
  defaultScenarioStart,
  emailMatches,
  formatMoment,
  momentAt,
  parseMoment,
  parseScenario,
  scenarioEnd,
  stepLabels,
  type ExpectationResult,
  type LeadHistory,
  type Scenario,
  type ScenarioAction,
  type ScenarioLead,
} from './scenario';
export { simulateScenario, type ScenarioSimulationOptions } from './scenario-simulation';
