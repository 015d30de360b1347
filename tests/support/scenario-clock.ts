// Where end-to-end scenarios start in time, so that none depends on the hour or the date the
// suite runs at: each scenario moves its clock (Temporal's time-skipping test server) to a
// canonical instant — a Tuesday at 10:00 in the campaign's zone whose week has no holiday in the
// campaign's calendar — the start `nurture test` scenarios use too (campaign/scenario.ts).
export { defaultScenarioStart as canonicalStart } from '../../campaign/scenario';
