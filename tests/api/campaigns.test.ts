// Campaigns (YAML or JSON, validation with lines, immutable versions, status changes),
// enrolments through the engine, and campaign stats.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLead, seedEnrolment, seedHandoff, seedSend, startTestApi, tableCounts, type TestApi } from './support';

let api: TestApi;
let yaml: string;
beforeAll(async () => {
  api = await startTestApi();
  yaml = await readFile(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8');
});
afterAll(async () => api?.close());

const postYaml = (url: string, body: string) => api.call({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/yaml' } });

describe('campaigns', () => {
  it('stores a YAML campaign as version 1, the same content again as the same version, a change as version 2', async () => {
    const first = await postYaml('/v1/campaigns', yaml);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ id: 'saas-whitepaper-nurture', version: 1, created: true, status: 'draft' });
    const same = await postYaml('/v1/campaigns', `# a comment changes nothing\n${yaml}`);
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ version: 1, created: false, content_hash: first.json().content_hash });
    const changed = await postYaml('/v1/campaigns', yaml.replace('name: Whitepaper → demo (Acme Analytics)', 'name: Whitepaper to demo'));
    expect(changed.json()).toMatchObject({ version: 2, created: true });
    const detail = await api.call({ method: 'GET', url: '/v1/campaigns/saas-whitepaper-nurture', key: api.readKey });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().campaign).toMatchObject({ current_version: 2, name: 'Whitepaper to demo' });
    expect(detail.json().versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(detail.json().definition.id).toBe('saas-whitepaper-nurture');
    const list = await api.call({ method: 'GET', url: '/v1/campaigns', key: api.readKey });
    expect(list.json().campaigns.map((c: { id: string }) => c.id)).toContain('saas-whitepaper-nurture');
  });

  it('accepts the definition as a JSON object too', async () => {
    const validated = await postYaml('/v1/campaigns/validate', yaml);
    expect(validated.json()).toEqual({ ok: true, id: 'saas-whitepaper-nurture', warnings: [] });
    const { parse } = await import('yaml');
    const json = { ...parse(yaml), id: 'json-campaign' };
    const response = await api.call({ method: 'POST', url: '/v1/campaigns', payload: json });
    expect(response.statusCode).toBe(201);
    expect(response.json().id).toBe('json-campaign');
  });

  it('warns of names the data has never used, with the ones it has: on validate, on create and on the campaign', async () => {
    await createLead(api, 'warned@example.com', { company: { name: 'Globex', employees: 250 }, region: 'kanto' });
    const posted = await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'warned-1', lead: { email: 'warned@example.com' }, type: 'asset.downloaded', data: { asset: 'whitepaper' } } });
    expect(posted.statusCode).toBe(202);
    const misspelt = yaml
      .replace('id: saas-whitepaper-nurture', 'id: warned-campaign')
      .replace('entry: { on: asset.downloaded,', 'entry: { on: asset.donwloaded,')
      .replace('"lead.company.employees >= 100", points: 15', '"lead.company.employee >= 100", points: 15');
    const lineOf = (fragment: string) => misspelt.split('\n').findIndex((line) => line.includes(fragment)) + 1;
    const expected = [
      { path: 'entry.on', line: lineOf('entry:'), column: 14, message: 'unknown event type "asset.donwloaded"', suggestion: 'asset.downloaded' },
      { path: 'scoring.fit[0].if', line: lineOf('lead.company.employee '), column: 13, message: 'unknown lead attribute lead.company.employee', suggestion: 'lead.company.employees' },
    ];
    const validated = await postYaml('/v1/campaigns/validate', misspelt);
    expect(validated.json()).toEqual({ ok: true, id: 'warned-campaign', warnings: expected });
    const created = await postYaml('/v1/campaigns', misspelt);
    expect(created.statusCode).toBe(201);
    expect(created.json().warnings).toEqual(expected);
    const detail = await api.call({ method: 'GET', url: '/v1/campaigns/warned-campaign', key: api.readKey });
    expect(detail.json().warnings).toEqual(expected);
  });

  it('answers an invalid campaign with 422 listing path, message and line, and stores nothing', async () => {
    const before = await tableCounts(api.db);
    const broken = yaml.replace('stages: { warm: 50, hot: 75, hysteresis: 5 }', 'stages: { warm: lots, hot: 75 }');
    for (const url of ['/v1/campaigns', '/v1/campaigns/validate']) {
      const response = await postYaml(url, broken);
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('invalid_campaign');
      const problem = response.json().error.details.find((d: { path: string }) => d.path.startsWith('stages'));
      expect(problem).toMatchObject({ line: yaml.split('\n').findIndex((line) => line.startsWith('stages:')) + 1 });
      expect(problem.message).toMatch(/\S/);
    }
    const notYaml = await postYaml('/v1/campaigns', 'id: [unclosed');
    expect(notYaml.statusCode).toBe(422);
    expect(notYaml.json().error.details[0]).toMatchObject({ path: '(file)', line: 1 });
    expect((await api.call({ method: 'POST', url: '/v1/campaigns', payload: [1, 2] })).statusCode).toBe(400);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('refuses a campaign naming an email template that does not exist, at its path and line', async () => {
    const before = await tableCounts(api.db);
    const misspelt = yaml.replace('template: case-study, subject: "How Globex', 'template: case-studdy, subject: "How Globex');
    const response = await postYaml('/v1/campaigns', misspelt);
    expect(response.statusCode).toBe(422);
    expect(response.json().error.details).toEqual([
      {
        path: 'tracks.cold[1].then[1].email.template',
        message: 'no email template "case-studdy" (templates/case-studdy.mjml)',
        line: misspelt.split('\n').findIndex((line) => line.includes('case-studdy')) + 1,
        column: expect.any(Number),
      },
    ]);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('launches, pauses, resumes and archives, telling the engine; refuses impossible changes with 409', async () => {
    const id = 'saas-whitepaper-nurture';
    const action = (name: string) => api.call({ method: 'POST', url: `/v1/campaigns/${id}/${name}` });
    expect((await action('pause')).statusCode).toBe(409);
    const launched = await action('launch');
    expect(launched.statusCode).toBe(200);
    expect(launched.json().status).toBe('active');
    expect((await action('launch')).statusCode).toBe(409);
    expect((await action('pause')).json().status).toBe('paused');
    expect((await action('resume')).json().status).toBe('active');
    const calls = api.engine.of('campaignStatusChanged').filter((call) => call.campaignId === id).map((call) => call.status);
    expect(calls).toEqual(['active', 'paused', 'active']);
    expect((await api.call({ method: 'POST', url: '/v1/campaigns/no-such/launch' })).statusCode).toBe(404);
  });

  it('enrols through the engine, reads enrolment state and exits enrolments', async () => {
    const leadId = await createLead(api, 'enrol@example.com');
    const enrol = () => api.call({ method: 'POST', url: '/v1/campaigns/saas-whitepaper-nurture/enrolments', payload: { lead_id: leadId } });
    const first = await enrol();
    expect(first.statusCode).toBe(201);
    const workflowId = first.json().workflow_id;
    expect(api.engine.of('enrol')).toContainEqual({ method: 'enrol', campaignId: 'saas-whitepaper-nurture', leadId });
    expect((await enrol()).json()).toEqual({ workflow_id: workflowId, already_enrolled: true });
    // The Temporal engine records the enrolment before starting its workflow; the recording engine does not.
    await api.db.pool.query(
      `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ($1, 'saas-whitepaper-nurture', 1, $2)`,
      [workflowId, leadId],
    );
    const state = await api.call({ method: 'GET', url: `/v1/enrolments/${encodeURIComponent(workflowId)}`, key: api.readKey });
    expect(state.json()).toEqual({ workflow_id: workflowId, state: { stage: 'cold' } });
    const exit = await api.call({ method: 'DELETE', url: `/v1/enrolments/${encodeURIComponent(workflowId)}` });
    expect(exit.statusCode).toBe(202);
    expect(api.engine.of('exitEnrolment').at(-1)).toMatchObject({ workflowId });
    // A workflow the database never recorded (another application's, a fan-out) is out of reach.
    const exits = api.engine.of('exitEnrolment').length;
    for (const other of ['fanout:saas-whitepaper-nurture:1', 'billing-run-42']) {
      expect((await api.call({ method: 'DELETE', url: `/v1/enrolments/${encodeURIComponent(other)}` })).statusCode).toBe(404);
    }
    expect(api.engine.of('exitEnrolment')).toHaveLength(exits);
    expect((await api.call({ method: 'GET', url: '/v1/enrolments/unknown', key: api.readKey })).statusCode).toBe(404);
    expect((await api.call({ method: 'DELETE', url: '/v1/enrolments/unknown' })).statusCode).toBe(404);
    expect((await api.call({ method: 'POST', url: '/v1/campaigns/saas-whitepaper-nurture/enrolments', payload: { lead_id: '00000000-0000-4000-8000-000000000000' } })).statusCode).toBe(404);
    expect((await api.call({ method: 'POST', url: '/v1/campaigns/json-campaign/enrolments', payload: { lead_id: leadId } })).statusCode).toBe(409);
  });
});

describe('GET /v1/campaigns/:id/stats', () => {
  it('counts the funnel, per-step and per-variant results (human-only too) and SLA compliance', async () => {
    const campaignId = 'stats-campaign';
    const leads = await Promise.all(['s1', 's2', 's3'].map((name) => createLead(api, `${name}@example.com`)));
    const enrolments = [
      await seedEnrolment(api.db, leads[0]!, campaignId, 'cold'),
      await seedEnrolment(api.db, leads[1]!, campaignId, 'warm'),
      await seedEnrolment(api.db, leads[2]!, campaignId, 'hot'),
    ];
    await api.db.pool.query(
      `INSERT INTO stage_changes (enrolment_id, from_stage, to_stage, score, changed_at) VALUES ($1, 'cold', 'warm', 50, now()), ($2, 'cold', 'warm', 50, now()), ($2, 'warm', 'hot', 80, now())`,
      [enrolments[1]!.enrolmentId, enrolments[2]!.enrolmentId],
    );
    const sends = [];
    for (const [index, leadId] of leads.entries()) {
      sends.push(await seedSend(api.db, { leadId, to: `s${index + 1}@example.com`, campaignId, enrolmentId: enrolments[index]!.enrolmentId, stepPath: 'tracks.cold[0]', abTest: 'tracks.cold[0]', variant: index === 0 ? 'A' : 'B' }));
    }
    const engage = (sendId: number, kind: string, machine: boolean) =>
      api.db.pool.query('INSERT INTO email_engagements (send_id, kind, machine) VALUES ($1, $2, $3)', [sendId, kind, machine]);
    await engage(sends[0]!.sendId, 'open', true);
    await engage(sends[1]!.sendId, 'open', false);
    await engage(sends[1]!.sendId, 'open', false);
    await engage(sends[1]!.sendId, 'click', false);
    await engage(sends[2]!.sendId, 'click', true);
    const inTime = await seedHandoff(api.db, enrolments[2]!.enrolmentId, leads[2]!, campaignId);
    await api.db.pool.query("UPDATE handoffs SET status = 'accepted', responded_at = now() WHERE id = $1", [inTime]);
    const late = await seedHandoff(api.db, enrolments[1]!.enrolmentId, leads[1]!, campaignId);
    await api.db.pool.query("UPDATE handoffs SET first_contact_due = now() - interval '1 day' WHERE id = $1", [late]);

    const response = await api.call({ method: 'GET', url: `/v1/campaigns/${campaignId}/stats`, key: api.readKey });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats.funnel).toMatchObject({ enrolled: 3, by_stage: { cold: 1, warm: 1, hot: 1 }, reached: { cold: 3, warm: 2, hot: 1, handed_off: 2 } });
    expect(stats.funnel.transitions).toEqual([{ from: 'cold', to: 'warm', count: 2 }, { from: 'warm', to: 'hot', count: 1 }]);
    expect(stats.steps).toEqual([{ step: 'tracks.cold[0]', template: 'welcome', sent: 3, opened: 2, clicked: 2, human_opened: 1, human_clicked: 1 }]);
    expect(stats.variants).toEqual([
      { ab_test: 'tracks.cold[0]', variant: 'A', sent: 1, opened: 1, clicked: 0, human_opened: 0, human_clicked: 0 },
      { ab_test: 'tracks.cold[0]', variant: 'B', sent: 2, opened: 1, clicked: 2, human_opened: 1, human_clicked: 1 },
    ]);
    expect(stats.sla).toEqual({ handoffs: 2, answered: 1, answered_in_time: 1, overdue: 1, compliance: 0.5 });
    expect((await api.call({ method: 'GET', url: '/v1/campaigns/nope/stats', key: api.readKey })).statusCode).toBe(404);
  });
});
