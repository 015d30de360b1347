// The dashboard in a real browser (headless Chromium) on the real engine: the demo campaign runs
// on Temporal's test server with the real worker, PostgreSQL, mailer and SMTP sink; one lead is
// driven through the demo scenario to a handoff, another stays cold; then the API serves the
// dashboard and the page is checked against the API's own answers.
//
// Screenshots go to tests/artifacts/ (not committed) for a person to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app';
import type { Campaign } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { HOUR, loadCampaign, startHarness, TEST_CONFIG, type Harness } from '../e2e/harness';
import { launchChromium } from '../support/browser';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const CAMPAIGN = 'saas-whitepaper-nurture';
const AIKO = 'aiko.suzuki@globex.example';
const BEN = 'ben.ito@initech.example';

let browser: Browser;
let h: Harness;
let campaign: Campaign;
let api: FastifyInstance;
let baseUrl: string;
let readKey: string;
let aikoId: string;

/** The API's own answer, with the same read key the page uses. */
async function apiGet(url: string) {
  const response = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${readKey}` } });
  expect(response.statusCode, url).toBe(200);
  return response.json();
}

beforeAll(async () => {
  // The browser first: without one the file fails at once, naming .ci/install-browser.
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });

  h = await startHarness();
  campaign = loadCampaign(CAMPAIGN);
  await h.launch(campaign);
  await h.startAtCanonicalInstant(campaign);

  // The demo scenario up to the handoff: the whitepaper download enrols Aiko (cold) and sends the
  // welcome email; an open and a click make her warm; two pricing-page views make her hot, she
  // qualifies and is handed to Kenji, the rep of her territory.
  aikoId = await h.addLead(AIKO, { first_name: 'Aiko', last_name: 'Suzuki', company: { name: 'Globex', employees: 250 }, role: 'manager', region: 'kanto' });
  await h.event(aikoId, 'asset.downloaded', { asset: 'whitepaper' });
  await h.waitForMail((m) => m.to.includes(AIKO));
  await h.settle();
  await h.advance(2 * HOUR);
  await h.event(aikoId, 'email.opened', { template: 'welcome' });
  await h.event(aikoId, 'email.clicked', { template: 'welcome', url: 'https://acme.example/guide' });
  await h.waitForMail((m) => m.to.includes(AIKO) && m.subject.startsWith('Globex and teams like yours'));
  await h.advance(HOUR);
  await h.event(aikoId, 'page.viewed', { page: 'pricing', path: '/pricing' });
  await h.event(aikoId, 'page.viewed', { page: 'pricing', path: '/pricing' });
  await h.waitForMail((m) => m.to.includes('kenji@acme.example'));
  // Ben downloads the whitepaper too and stays cold: a funnel with more than one lead in it.
  const benId = await h.addLead(BEN, { first_name: 'Ben', last_name: 'Ito', company: { name: 'Initech', employees: 40 }, role: 'engineer', region: 'kansai' });
  await h.event(benId, 'asset.downloaded', { asset: 'whitepaper' });
  await h.waitForMail((m) => m.to.includes(BEN));
  await h.settle();

  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: 'http://127.0.0.1', secret: TEST_CONFIG.linkSecret } });
  baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
  readKey = (await createApiKey(h.db.pool, 'dashboard browser test', ['read'])).key;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await h?.close();
});

/** A page that records every console error and uncaught exception (CSP violations included). */
async function openPage(errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  return page;
}

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

describe('the dashboard, signed in with a read key from the URL fragment', () => {
  const errors: string[] = [];
  let page: Page;

  beforeAll(async () => {
    page = await openPage(errors);
  });

  it('keeps the key in the session, not in the address bar, and lists the campaign', async () => {
    await page.goto(`${baseUrl}/dashboard#key=${readKey}`);
    const row = page.locator(`#campaign-list tr[data-campaign-id="${CAMPAIGN}"]`);
    await row.waitFor();
    expect(page.url()).toBe(`${baseUrl}/dashboard#/campaigns`);
    expect(await page.evaluate("sessionStorage.getItem('nurture.apiKey')")).toBe(readKey);
    expect(await row.textContent()).toContain(campaign.name);
    expect(await row.locator('.badge').textContent()).toBe('active');
  });

  it('shows the stage funnel with the numbers of the stats endpoint', async () => {
    await page.locator(`#campaign-list tr[data-campaign-id="${CAMPAIGN}"] a`).click();
    await page.locator('#campaign-detail').waitFor();
    const stats = await apiGet(`/v1/campaigns/${CAMPAIGN}/stats`);
    const bar = async (chart: string, key: string) => Number(await text(page, `figure[data-chart="${chart}"] g[data-key="${key}"] .value`));

    expect(stats.funnel.reached).toEqual({ cold: 2, warm: 1, hot: 1, handed_off: 1 });
    expect(await bar('reached', 'enrolled')).toBe(stats.funnel.reached.cold);
    expect(await bar('reached', 'warm')).toBe(stats.funnel.reached.warm);
    expect(await bar('reached', 'hot')).toBe(stats.funnel.reached.hot);
    expect(await bar('reached', 'handed_off')).toBe(stats.funnel.reached.handed_off);
    expect(await bar('reached', 'handed_off')).toBeGreaterThanOrEqual(1);
    for (const stage of ['cold', 'warm', 'hot']) expect(await bar('by-stage', stage), stage).toBe(stats.funnel.by_stage[stage] ?? 0);
    expect(await text(page, '#sla')).toContain('Handed off');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-campaign.png`, fullPage: true });
  });

  it('has a row per step that sent email, with its figures, and the A/B test of the welcome email', async () => {
    const stats = await apiGet(`/v1/campaigns/${CAMPAIGN}/stats`);
    const sentSteps = (
      await h.db.pool.query<{ step: string; n: number }>(
        `SELECT step_path AS step, count(*)::int AS n FROM email_sends WHERE campaign_id = $1 AND status = 'sent' AND step_path IS NOT NULL GROUP BY 1 ORDER BY 1`,
        [CAMPAIGN],
      )
    ).rows;
    expect(sentSteps.map((row) => row.step)).toContain('tracks.cold[0]');
    expect(sentSteps.find((row) => row.step === 'tracks.cold[0]')!.n).toBe(2);
    for (const { step, n } of sentSteps) {
      const cells = await page.locator(`#steps tr[data-step="${step}"] td`).allTextContents();
      expect(cells[0], step).toBe(step);
      expect(Number(cells[2]), step).toBe(n);
    }
    expect(await page.locator('#steps tbody tr').count()).toBe(stats.steps.length);

    const welcome = page.locator('#ab-tests .ab-test[data-test="tracks.cold[0]"]');
    const variants = await welcome.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-variant')));
    expect(variants).toEqual(stats.variants.filter((v: { ab_test: string }) => v.ab_test === 'tracks.cold[0]').map((v: { variant: string }) => v.variant));
    // Two sends are far below the sample the campaign asks for: no verdict yet.
    expect(stats.ab_tests).toEqual([expect.objectContaining({ test_key: 'tracks.cold[0]', winner: null })]);
    expect(await welcome.locator('.ab-head .badge').textContent()).toBe('undecided');
  });

  it('finds the lead by a part of the address and shows its stage, score, enrolment state and timeline', async () => {
    await page.locator('nav a[data-section="leads"]').click();
    await page.locator('#lead-search').waitFor();
    await page.locator('#lead-search input[name="q"]').fill('SUZUKI@globex');
    await page.locator('#lead-search button').click();
    const result = page.locator(`#lead-results tr[data-lead-id="${aikoId}"]`);
    await result.waitFor();
    expect(await page.locator('#lead-results tbody tr').count()).toBe(1);
    expect(await result.textContent()).toContain(AIKO);
    await result.locator('a').click();
    await page.locator('#lead-page #lead-timeline').waitFor();

    const profile = await apiGet(`/v1/leads/${aikoId}`);
    expect(profile.stage).toBe('hot');
    expect(await text(page, '#lead-stage')).toBe(profile.stage);
    expect(await text(page, '#lead-score .score-value')).toBe(new Intl.NumberFormat('en-US').format(profile.score));
    const breakdown = await page.locator('#score-breakdown tbody tr td:first-child').allTextContents();
    expect(breakdown).toEqual([...profile.score_breakdown.map((item: { label: string }) => item.label), 'Total']);
    expect(breakdown).toContain('pricing page views');

    // The enrolment's live state, as the workflow's query answers it.
    const [enrolment] = profile.enrolments;
    const state = (await apiGet(`/v1/enrolments/${encodeURIComponent(enrolment.workflow_id)}`)).state;
    const row = await page.locator(`#lead-enrolments tr[data-workflow-id="${enrolment.workflow_id}"] td`).allTextContents();
    expect(row[0]).toBe(CAMPAIGN);
    expect(row[4]).toBe(state.currentStep ?? '–');
    if (state.nextWakeAt) expect(row[6]).toMatch(/\d{4}/);

    const timeline = await apiGet(`/v1/leads/${aikoId}/timeline`);
    const kinds = await page.locator('#lead-timeline tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kind')));
    expect(kinds).toEqual(timeline.items.map((item: { kind: string }) => item.kind));
    for (const kind of ['event', 'email', 'consent', 'stage', 'handoff']) expect(kinds).toContain(kind);
    expect(await text(page, '#lead-timeline')).toContain('page.viewed');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-lead.png`, fullPage: true });
  });

  it("lists the handoff with its owner's email and SLA status", async () => {
    await page.locator('nav a[data-section="handoffs"]').click();
    await page.locator('#handoff-table').waitFor();
    const { handoffs } = await apiGet('/v1/handoffs');
    expect(handoffs).toHaveLength(1);
    const row = page.locator(`#handoff-table tr[data-handoff-id="${handoffs[0].id}"]`);
    expect(await row.textContent()).toContain(AIKO);
    expect(await text(page, `#handoff-table tr[data-handoff-id="${handoffs[0].id}"] .owner-email`)).toBe('kenji@acme.example');
    expect(handoffs[0].owner.email).toBe('kenji@acme.example');
    // Unanswered, and due one business day after the handoff in (virtual) time that is ahead of the clock.
    expect(await row.locator('.sla').getAttribute('data-sla')).toBe(Date.parse(handoffs[0].first_contact_due) > Date.now() ? 'on time' : 'overdue');
    expect(await text(page, `#handoff-table tr[data-handoff-id="${handoffs[0].id}"] .sla .badge`)).toMatch(/^(on time|overdue)$/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-handoffs.png`, fullPage: true });
  });

  it('shows the warnings of a campaign whose text misspells an event type the data has used', async () => {
    const writeKey = (await createApiKey(h.db.pool, 'dashboard warnings test', ['read', 'write'])).key;
    const yaml = readFileSync(fileURLToPath(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url)), 'utf8')
      .replace('id: saas-whitepaper-nurture', 'id: misspelt')
      .replace('entry: { on: asset.downloaded,', 'entry: { on: asset.donwloaded,');
    const created = await api.inject({ method: 'POST', url: '/v1/campaigns', headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/yaml' }, payload: yaml });
    expect(created.statusCode).toBe(201);
    await page.goto(`${baseUrl}/dashboard#/campaigns/misspelt`);
    const warning = page.locator('#campaign-warnings li[data-path="entry.on"]');
    await warning.waitFor();
    const line = yaml.split('\n').findIndex((l) => l.startsWith('entry:')) + 1;
    expect(await warning.textContent()).toBe(`entry.on (line ${line}) unknown event type "asset.donwloaded" — did you mean asset.downloaded?`);
    expect(await page.locator('#campaign-warnings li').count()).toBe(1);
  });

  it('logged no console error', () => {
    expect(errors).toEqual([]);
  });
});

describe('the dashboard, signed in with a write key', () => {
  const errors: string[] = [];

  it('shows the event delivery and launches the campaign to a segment, following it to the end', async () => {
    const writeKey = (await createApiKey(h.db.pool, 'dashboard launch test', ['read', 'write'])).key;
    const page = await openPage(errors);
    await page.goto(`${baseUrl}/dashboard#key=${writeKey}`);
    await page.locator('#event-delivery').waitFor();
    // Every event of the scenario was delivered: nothing waits, nothing retries.
    expect(await text(page, '#event-delivery [data-field="undelivered"]')).toMatch(/^0\s*flowing$/);
    expect(await text(page, '#event-delivery [data-field="retrying"]')).toBe('0');
    expect(await text(page, '#event-delivery [data-field="lag"]')).toMatch(/^p50 .* · p99 .* over \d+ events$/);

    await page.locator(`#campaign-list tr[data-campaign-id="${CAMPAIGN}"] a`).click();
    await page.locator('#launch-form').waitFor();
    // Ben is the one engineer, and already in the campaign: queued, and not entered again.
    await page.locator('#launch-form textarea[name="segment"]').fill("lead.role == 'engineer'");
    await page.locator('#launch-form button').click();
    await page.locator('#launch-result .summary').waitFor();
    expect(await page.locator('#launch-result').textContent()).toMatch(/Launch \d+ started over 2 candidate leads/);
    const row = page.locator('#launch-list tr[data-launch-id]').first();
    await row.locator('.badge', { hasText: 'done' }).waitFor({ timeout: 30_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe("lead.role == 'engineer'");
    expect(cells[3]).toBe('2 / 2');
    expect(cells[4]).toBe('1');
    expect(cells[5]).toBe('0');
    expect(cells[6]).toBe('not matching 1');
    expect(cells[7]).toBe('already enrolled 1');
  });

  // A simulation costs seconds of CPU: it needs the write scope.
  it('simulates the campaign when asked and shows the projected funnel, steps and A/B outcome', async () => {
    const writeKey = (await createApiKey(h.db.pool, 'dashboard simulation test', ['read', 'write'])).key;
    const page = await openPage(errors);
    await page.goto(`${baseUrl}/dashboard#key=${writeKey}`);
    await page.locator(`#campaign-list tr[data-campaign-id="${CAMPAIGN}"] a`).click();
    await page.locator('#simulate-form').waitFor();
    await page.locator('#simulate-form input[name="leads"]').fill('500');
    await page.locator('#simulate-form input[name="days"]').fill('60');
    await page.locator('#simulate-form input[name="seed"]').fill('3');
    await page.locator('#simulate-form button').click();
    const funnel = page.locator('#simulation-result figure[data-chart="simulated-funnel"]');
    await funnel.waitFor();

    const expected = (await api.inject({ method: 'POST', url: `/v1/campaigns/${CAMPAIGN}/simulate`, headers: { authorization: `Bearer ${writeKey}` }, payload: { leads: 500, days: 60, seed: 3 } })).json();
    const bar = async (key: string) => Number(await text(page, `#simulation-result g[data-key="${key}"] .value`));
    expect(await bar('enrolled')).toBe(500);
    expect(await bar('warm')).toBe(expected.funnel.reached_warm);
    expect(await bar('hot')).toBe(expected.funnel.reached_hot);
    expect(await bar('handed_off')).toBe(expected.funnel.handed_off);
    const steps = await page.locator('#simulated-steps tbody tr[data-step]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-step')));
    // Grouped by track in stage order on the page; the same steps as the API's report.
    expect([...steps].sort()).toEqual(expected.steps.map((step: { step: string }) => step.step).sort());
    const welcome = await page.locator('#simulated-steps tr[data-step="tracks.cold[0]"] td').allTextContents();
    const welcomeReport = expected.steps.find((step: { step: string }) => step.step === 'tracks.cold[0]');
    expect(welcome[1]).toBe(new Intl.NumberFormat('en-US').format(welcomeReport.sent));
    // Why it did not go when due: the leads without consent, and those outside the window.
    expect(welcome[7]).toContain(`no consent ${welcomeReport.not_sent.no_consent}`);
    expect(await text(page, '#simulation-result .ab-test[data-test="tracks.cold[0]"] .ab-head')).toContain(expected.ab_tests[0].winner ? `winner: ${expected.ab_tests[0].winner}` : 'no winner');
    expect(await text(page, '#simulation-result .ab-test[data-test="tracks.cold[0]"] .ab-plan')).toBe(`Plan: ${expected.ab_tests[0].plan}`);
    // Sends over time: a bar per week, adding up to the days' sends.
    const weeks = await page.locator('#simulation-result figure[data-chart="simulated-sends"] g[data-key] .value').allTextContents();
    expect(weeks).toHaveLength(Math.ceil(60 / 7));
    expect(weeks.map((value) => Number(value.replaceAll(',', ''))).reduce((sum, n) => sum + n, 0)).toBe(expected.sends_by_day.reduce((sum: number, n: number) => sum + n, 0));
    await page.locator('#simulation').screenshot({ path: `${ARTIFACTS}dashboard-simulation.png` });
  });

  it('logged no console error', () => {
    expect(errors).toEqual([]);
  });
});

describe('the dashboard without a key', () => {
  const errors: string[] = [];

  it('asks for a key, refuses a malformed one and opens with a valid one', async () => {
    const page = await openPage(errors);
    await page.goto(`${baseUrl}/dashboard`);
    await page.locator('#key-form').waitFor();
    expect(await page.locator('#nav').isHidden()).toBe(true);
    expect(await page.locator('#campaign-list').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-key-form.png` });

    await page.locator('#key-input').fill('not-a-key');
    await page.locator('#key-form button').click();
    expect(await text(page, '#key-error')).toMatch(/not an API key/);

    await page.locator('#key-input').fill(readKey);
    await page.locator('#key-form button').click();
    await page.locator(`#campaign-list tr[data-campaign-id="${CAMPAIGN}"]`).waitFor();
    expect(await page.locator('#nav').isVisible()).toBe(true);

    await page.locator('#forget-key').click();
    await page.locator('#key-form').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('nurture.apiKey')")).toBeNull();
  });

  it('logged no console error', () => {
    expect(errors).toEqual([]);
  });
});
