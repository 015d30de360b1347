// The simulator and the engine agree: 200 scripted leads (seeded: varied fit, entries in and out
// of the send window and on later days, downloads that do not enrol, pricing and careers pages,
// webinars, opens and clicks of the emails they received) run through the real engine in virtual
// time (`nurture test`'s runner: Temporal's time-skipping test server, the real worker,
// PostgreSQL) and through the simulator's scripted mode (the interpreter alone). Every lead gets
// the same emails at the same minute, the same stage changes, handoffs and exits; any
// difference fails the build.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { compileScenario, parseCampaign, simulateScenario, type LeadHistory } from '../../campaign';
import { seededRandom } from '../../campaign/simulator';
import { runScenario } from '../../cli/scenario-runner';
import { createTestDatabase } from '../support/database';

const LEADS = 200;

/** The script: each lead's attributes and actions, drawn from one seed. */
function script(seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const leads: Record<string, unknown> = {};
  for (let n = 0; n < LEADS; n++) {
    const actions: Record<string, unknown>[] = [];
    // Some download something else first, or only that, which does not enrol (entry.where).
    const enrols = random() >= 0.08;
    if (!enrols || random() < 0.1) actions.push({ at: 'day 0 09:45', event: 'asset.downloaded', data: { asset: 'case-study' } });
    if (enrols) actions.push({ at: `day ${random() < 0.15 ? 1 : 0} ${pick(['09:30', '10:00', '13:00', '19:30'])}`, event: 'asset.downloaded', data: { asset: 'whitepaper' } });
    const behaviours = Math.floor(random() * 5);
    for (let j = 0; j < behaviours; j++) {
      const at = `day ${2 + Math.floor(random() * 11)} ${pick(['11:00', '16:00', '21:00'])}`;
      const what = pick(enrols ? (['pricing', 'careers', 'webinar', 'open', 'click', 'download'] as const) : (['pricing', 'careers'] as const));
      if (what === 'open' || what === 'click') actions.push({ at, [what]: 'welcome' });
      else if (what === 'webinar') actions.push({ at, event: 'webinar.attended', data: { webinar: 'metrics-101' } });
      else if (what === 'download') actions.push({ at, event: 'asset.downloaded', data: { asset: 'checklist' } });
      else actions.push({ at, event: 'page.viewed', data: { page: what } });
    }
    leads[`lead-${n}`] = {
      email: `lead${n}@${random() < 0.1 ? 'gmail.com' : `company${n % 37}.example`}`,
      attributes: { first_name: `Lead${n}`, company: { name: `Company ${n}`, employees: pick([20, 80, 150, 400, 2000]) }, role: pick(['engineer', 'manager', 'director', 'vp', 'intern']), region: pick(['kanto', 'kansai']) },
      do: actions,
      expect: [],
    };
  }
  return compileScenario({ name: `differential, seed ${seed}`, run_for: '30d', leads });
}

it(`${LEADS} scripted leads: the simulator's emails, stages, handoffs and exits are the engine's`, async () => {
  const campaign = parseCampaign(await readFile('campaigns/saas-whitepaper-nurture.yaml', 'utf8'));
  const scenario = script(2026);
  if (!campaign.ok || !scenario.ok) throw new Error(JSON.stringify(scenario.ok ? campaign : scenario));
  const db = await createTestDatabase();
  try {
    const report = await runScenario({ campaign: campaign.campaign, scenario: scenario.scenario, pool: db.pool, databaseUrl: db.url });
    const simulated = simulateScenario(campaign.campaign, scenario.scenario, { start: report.start, leadIds: new Map(report.leads.map((lead) => [lead.name, lead.leadId])) });

    // Minutes from the start: what a marketer compares (the engine's clock moves a few ms per
    // workflow task); emails of one minute in any order (a track email and a trigger both held
    // for the window's opening go out together).
    const minute = (at: number) => Math.round((at - report.start) / 60_000);
    const byTime = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
    const view = (history: LeadHistory) => ({
      emails: history.emails.map((e) => `${minute(e.at)} ${e.template} ${e.step} ${e.status}`).sort(byTime),
      stages: history.stages.map((s) => `${minute(s.at)} ${s.from}→${s.to}`),
      handoffs: history.handoffs.map((h) => `${minute(h.at)}`),
      exits: history.exits.map((x) => `${minute(x.at)} ${x.reason}`),
    });
    const differences = report.leads
      .map((lead) => ({ lead: lead.name, engine: view(lead.journey), simulator: view(simulated.get(lead.name)!) }))
      .filter((pair) => JSON.stringify(pair.engine) !== JSON.stringify(pair.simulator));
    expect(differences).toEqual([]);

    // The script exercises what it should: leads not enrolled, warm and hot leads, handoffs, every email of the campaign.
    const journeys = report.leads.map((lead) => lead.journey);
    const emails = journeys.flatMap((j) => j.emails);
    console.log(
      `differential: ${LEADS} leads, ${emails.length} emails, ${journeys.filter((j) => j.stages.some((s) => s.to === 'warm')).length} reached warm, ` +
        `${journeys.filter((j) => j.stages.some((s) => s.to === 'hot')).length} hot, ${journeys.filter((j) => j.handoffs.length).length} handed off, engine run ${(report.runMs / 1000).toFixed(1)} s`,
    );
    expect(journeys.filter((j) => j.emails.length === 0).length).toBeGreaterThan(0);
    expect(journeys.filter((j) => j.stages.some((s) => s.to === 'hot')).length).toBeGreaterThan(5);
    expect(journeys.filter((j) => j.handoffs.length).length).toBeGreaterThan(3);
    expect(new Set(emails.map((e) => e.template))).toEqual(new Set(['welcome', 'case-study', 'reminder', 'webinar-invite', 'demo-invite', 'webinar-followup', 'pricing', 'product-tour']));
  } finally {
    await db.drop();
  }
}, 600_000);
