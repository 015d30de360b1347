// Leads (upsert, profile, timeline, export, erasure), consent, and the CSV import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLead, seedEnrolment, seedSend, startTestApi, tableCounts, type TestApi } from './support';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

describe('PUT /v1/leads', () => {
  it('creates, then merges attributes by address (case-insensitive), null removing a key', async () => {
    const first = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'Grace@Example.com', attributes: { role: 'cto', region: 'east' }, timezone: 'Asia/Tokyo' } });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ created: true, suppressed: null, lead: { email: 'grace@example.com', attributes: { role: 'cto', region: 'east' }, timezone: 'Asia/Tokyo' } });
    const second = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'GRACE@example.COM', attributes: { region: null, company: { employees: 250 } } } });
    expect(second.statusCode).toBe(200);
    expect(second.json().lead).toMatchObject({ id: first.json().lead.id, attributes: { role: 'cto', company: { employees: 250 } }, timezone: 'Asia/Tokyo' });
  });

  it('stores a lead.updated event when an existing lead\'s attributes change, whichever way they come, and only then', async () => {
    const updates = async (leadId: string) =>
      (await api.db.pool.query(`SELECT data FROM events WHERE lead_id = $1 AND type = 'lead.updated' ORDER BY id`, [leadId])).rows.map((row) => row.data);
    const created = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'bant@example.com', attributes: { role: 'manager', company: { employees: 250 } } } });
    const leadId = created.json().lead.id;
    expect(await updates(leadId)).toEqual([]); // a new lead: its enrolments start with these attributes
    await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'bant@example.com', attributes: { role: 'manager' } } });
    expect(await updates(leadId)).toEqual([]); // nothing changed
    await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'bant@example.com', attributes: { authority: true, timeline_months: 2, role: 'manager' } } });
    const posted = await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'bant-view', lead: { email: 'bant@example.com' }, lead_attributes: { timeline_months: null }, type: 'page.viewed' } });
    expect(posted.statusCode).toBe(202);
    expect(await updates(leadId)).toEqual([
      { attributes: { role: 'manager', company: { employees: 250 }, authority: true, timeline_months: 2 }, changed: ['authority', 'timeline_months'] },
      { attributes: { role: 'manager', company: { employees: 250 }, authority: true }, changed: ['timeline_months'] },
    ]);
    // The attribute change is stored before the event that carried it, so enrolments see it first.
    const { rows } = await api.db.pool.query(`SELECT type FROM events WHERE lead_id = $1 ORDER BY id`, [leadId]);
    expect(rows.map((row) => row.type)).toEqual(['lead.updated', 'lead.updated', 'page.viewed']);
    // The type is the engine's own.
    const forged = await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'forged', lead: { id: leadId }, type: 'lead.updated', data: { attributes: { authority: false } } } });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error.message).toBe('event.type lead.updated is the engine\'s own: change attributes with PUT /v1/leads or lead_attributes');
  });

  it.each([
    ['no email', { attributes: {} }],
    ['a bad email', { email: 'not an email' }],
    ['an email with CRLF', { email: 'x@example.com\r\nBcc: y@example.com' }],
    ['attributes that are a string', { email: 'x@example.com', attributes: 'role=cto' }],
    ['an attribute name with spaces', { email: 'x@example.com', attributes: { 'job title': 'cto' } }],
    ['an unknown time zone', { email: 'x@example.com', timezone: 'Mars/Olympus' }],
  ])('refuses %s with 400 and changes nothing', async (_name, payload) => {
    const before = await tableCounts(api.db);
    const response = await api.call({ method: 'PUT', url: '/v1/leads', payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/\S/);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('stores HTML and SQL in attributes verbatim', async () => {
    const hostile = { name: '<script>alert("x")</script>', note: "Robert'); DROP TABLE leads;--", header: 'a\r\nX-Injected: 1' };
    const response = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'bobby@example.com', attributes: hostile } });
    expect(response.statusCode).toBe(201);
    const profile = await api.call({ method: 'GET', url: `/v1/leads/${response.json().lead.id}`, key: api.readKey });
    expect(profile.json().lead.attributes).toEqual(hostile);
  });
});

describe('profile, timeline, export', () => {
  it('shows consent, enrolments, stage and score, and a merged timeline newest first', async () => {
    const leadId = await createLead(api, 'profile@example.com', { role: 'vp' });
    const consent = await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload: { purpose: 'marketing_email', granted: true, source: 'form:whitepaper', ip: '203.0.113.7', user_agent: 'Firefox', evidence: { form: 'wp-1' } } });
    expect(consent.statusCode).toBe(201);
    expect(consent.json()).toMatchObject({ purpose: 'marketing_email', granted: true, ip: '203.0.113.7', evidence: { form: 'wp-1' } });
    expect(api.engine.of('consentChanged').at(-1)).toEqual({ method: 'consentChanged', leadId, purpose: 'marketing_email', granted: true });
    const { enrolmentId, campaignId, workflowId } = await seedEnrolment(api.db, leadId, 'profile-campaign', 'warm');
    await seedSend(api.db, { leadId, to: 'profile@example.com', campaignId, enrolmentId, sentAt: new Date(Date.now() + 1000) });
    await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'profile-ev', lead: { id: leadId }, type: 'page.viewed', at: new Date(Date.now() - 60_000).toISOString() } });

    const breakdown = [{ label: 'decision-maker role', points: 20 }, { label: 'pricing page views', points: 22 }];
    api.engine.states.set(workflowId, { stage: 'warm', score: 42, breakdown });
    const profile = await api.call({ method: 'GET', url: `/v1/leads/${leadId}`, key: api.readKey });
    expect(profile.statusCode).toBe(200);
    expect(profile.json()).toMatchObject({ consent: { marketing_email: true }, stage: 'warm', score: 42, suppressed: null, score_breakdown: breakdown });
    expect(profile.json().enrolments).toMatchObject([{ workflow_id: workflowId, campaign_id: campaignId, stage: 'warm' }]);

    const timeline = await api.call({ method: 'GET', url: `/v1/leads/${leadId}/timeline?limit=2`, key: api.readKey });
    expect(timeline.statusCode).toBe(200);
    expect(timeline.json().items.map((item: { kind: string }) => item.kind)).toEqual(['email', 'consent']);
    expect(timeline.json().next_offset).toBe(2);
    const rest = await api.call({ method: 'GET', url: `/v1/leads/${leadId}/timeline?limit=2&offset=2`, key: api.readKey });
    expect(rest.json().items.map((item: { kind: string; id: string }) => [item.kind, item.id])).toEqual([['event', 'profile-ev']]);
    expect(rest.json().next_offset).toBeNull();

    const exported = await api.call({ method: 'GET', url: `/v1/leads/${leadId}/export`, key: api.readKey });
    expect(exported.statusCode).toBe(200);
    const data = exported.json();
    expect(data.lead.email).toBe('profile@example.com');
    expect(data.consent_records).toHaveLength(1);
    expect(data.events.map((e: { external_id: string }) => e.external_id)).toEqual(['profile-ev']);
    expect(data.email_sends).toHaveLength(1);
    expect(data.email_sends[0].to_address).toBe('profile@example.com');
    expect(data.email_sends[0]).not.toHaveProperty('task_token');
    expect(data.enrolments).toHaveLength(1);
  });

  it('answers unknown leads with 404 and malformed ids with 400', async () => {
    for (const url of ['/v1/leads/00000000-0000-4000-8000-00000000000f', '/v1/leads/00000000-0000-4000-8000-00000000000f/timeline', '/v1/leads/00000000-0000-4000-8000-00000000000f/export', '/v1/leads/00000000-0000-4000-8000-00000000000f/consent']) {
      const response = await api.call({ method: 'GET', url, key: api.readKey });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }
    expect((await api.call({ method: 'GET', url: "/v1/leads/1' OR '1'='1", key: api.readKey })).statusCode).toBe(400);
    expect((await api.call({ method: 'GET', url: '/v1/leads/00000000-0000-4000-8000-00000000000f/timeline?limit=0', key: api.readKey })).statusCode).toBe(400);
    const before = await tableCounts(api.db);
    const consent = await api.call({ method: 'POST', url: '/v1/leads/00000000-0000-4000-8000-00000000000f/consent', payload: { purpose: 'marketing_email', granted: true, source: 'api' } });
    expect(consent.statusCode).toBe(404);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('stores SQL, HTML and header-injection strings in consent evidence verbatim', async () => {
    const leadId = await createLead(api, 'evidence@example.com');
    const hostile = "<img src=x onerror=alert(1)>'); DELETE FROM consent_records;--\r\nX-Injected: yes";
    const response = await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload: { purpose: 'marketing_email', granted: true, source: hostile, user_agent: hostile, evidence: { [hostile.slice(0, 5)]: hostile } } });
    expect(response.statusCode).toBe(201);
    const stored = (await api.db.pool.query('SELECT source, user_agent, evidence FROM consent_records WHERE lead_id = $1', [leadId])).rows;
    expect(stored).toEqual([{ source: hostile, user_agent: hostile, evidence: { [hostile.slice(0, 5)]: hostile } }]);
  });

  it('refuses consent with wrong types, and keeps a history in order', async () => {
    const leadId = await createLead(api, 'history@example.com');
    const before = await tableCounts(api.db);
    for (const payload of [
      { purpose: 'marketing_email', granted: 'yes', source: 'api' },
      { purpose: 'Marketing Email', granted: true, source: 'api' },
      { purpose: 'marketing_email', granted: true, source: 'api', ip: 'not-an-ip' },
      { purpose: 'marketing_email', granted: true },
    ]) {
      expect((await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload })).statusCode).toBe(400);
    }
    expect(await tableCounts(api.db)).toEqual(before);
    await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload: { purpose: 'marketing_email', granted: true, source: 'form' } });
    await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload: { purpose: 'marketing_email', granted: false, source: 'call', ip: '2001:db8::1' } });
    const history = await api.call({ method: 'GET', url: `/v1/leads/${leadId}/consent`, key: api.readKey });
    expect(history.json().current).toEqual({ marketing_email: false });
    expect(history.json().history.map((r: { granted: boolean; source: string }) => [r.granted, r.source])).toEqual([[true, 'form'], [false, 'call']]);
  });
});

describe('DELETE /v1/leads/:id', () => {
  it('erases personal data, keeps the address suppressed, exits open enrolments, and is idempotent', async () => {
    const leadId = await createLead(api, 'erase-me@example.com', { first_name: 'Erin' });
    await api.call({ method: 'POST', url: `/v1/leads/${leadId}/consent`, payload: { purpose: 'marketing_email', granted: true, source: 'form', ip: '198.51.100.4' } });
    const { workflowId, enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'erase-campaign');
    await seedSend(api.db, { leadId, to: 'erase-me@example.com', campaignId, enrolmentId });
    await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'erase-ev', lead: { id: leadId }, type: 'form.submitted', data: { phone: '+81 3 0000 0000' } } });

    const response = await api.call({ method: 'DELETE', url: `/v1/leads/${leadId}` });
    expect(response.statusCode).toBe(200);
    expect(response.json().exited_enrolments).toEqual([workflowId]);
    expect(api.engine.of('terminateEnrolment')).toContainEqual({ method: 'terminateEnrolment', workflowId, reason: 'lead erased' });

    const lead = (await api.db.pool.query('SELECT email, attributes, erased_at FROM leads WHERE id = $1', [leadId])).rows[0];
    expect(lead).toMatchObject({ email: null, attributes: {} });
    expect(lead.erased_at).toBeInstanceOf(Date);
    // The sender's id is replaced by a keyed hash: still unique, no longer what the sender chose.
    const events = (await api.db.pool.query('SELECT external_id, data FROM events WHERE lead_id = $1', [leadId])).rows;
    expect(events).toEqual([{ external_id: expect.stringMatching(/^erased:[A-Za-z0-9_-]{43}$/), data: {} }]);
    expect((await api.db.pool.query('SELECT to_address, message, subject, smtp_response FROM email_sends WHERE lead_id = $1', [leadId])).rows).toEqual([
      { to_address: null, message: null, subject: '[erased]', smtp_response: null },
    ]);
    expect((await api.db.pool.query('SELECT ip, source FROM consent_records WHERE lead_id = $1', [leadId])).rows).toEqual([{ ip: null, source: 'erased' }]);
    expect((await api.db.pool.query('SELECT status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId])).rows).toEqual([{ status: 'exited', exit_reason: 'erased' }]);
    const exported = JSON.stringify((await api.call({ method: 'GET', url: `/v1/leads/${leadId}/export`, key: api.readKey })).json());
    expect(exported).not.toContain('erase-me');
    expect(exported).not.toContain('Erin');
    expect(exported).not.toContain('0000 0000');

    // Erasing again changes nothing and asks Temporal again to end the workflows an erasure ended.
    const again = await api.call({ method: 'DELETE', url: `/v1/leads/${leadId}` });
    expect(again.statusCode).toBe(200);
    expect(again.json().exited_enrolments).toEqual([]);
    expect(api.engine.of('terminateEnrolment').filter((call) => call.workflowId === workflowId)).toHaveLength(2);
    // Events for the erased lead by id are refused; consent cannot be recorded for it.
    expect((await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'after-erase', lead: { id: leadId }, type: 'page.viewed' } })).statusCode).toBe(404);
    // Coming back by email revives the row, but the address stays suppressed.
    const back = await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'erase-me@example.com' } });
    expect(back.json()).toMatchObject({ suppressed: 'erased', lead: { id: leadId, email: 'erase-me@example.com', erased_at: null } });
  });

  it('answers an unknown lead with 404', async () => {
    expect((await api.call({ method: 'DELETE', url: '/v1/leads/00000000-0000-4000-8000-0000000000aa' })).statusCode).toBe(404);
  });
});

describe('POST /v1/leads/import', () => {
  const csv = (text: string) => api.call({ method: 'POST', url: '/v1/leads/import', payload: text, headers: { 'content-type': 'text/csv' } });

  it('imports good rows and reports each bad one by line', async () => {
    const existing = await createLead(api, 'known@example.com');
    const file = [
      'email,first_name,company,employees,role,timezone,consent,favourite_colour',
      'new1@example.com,Ann,Acme,250,manager,Europe/Berlin,yes,blue',
      'not-an-email,Bob,Acme,10,,,,',
      'known@example.com,Kim,Beta,12,director,,no,',
      'new2@example.com,Cy,Gamma,lots,,,,',
      'new3@example.com,Di,"Quote, Inc.",5,,Mars/Base,,',
      'new4@example.com,Ed,Delta,5,,,maybe,',
      'too,few',
      '"<script>x</script>@example.com",Evil,,,,,,',
      "o'hara@example.com,\"'); DROP TABLE leads;--\",,,,,,",
      '',
    ].join('\r\n');
    const response = await csv(file);
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({ imported: 3, created: 2, updated: 1, rejected: 6 });
    expect(report.errors.map((e: { line: number }) => e.line)).toEqual([3, 5, 6, 7, 8, 9]);
    expect(report.errors[1].reason).toMatch(/employees 'lots'/);
    expect(report.errors[2].reason).toMatch(/timezone 'Mars\/Base'/);
    const imported = (await api.db.pool.query("SELECT attributes, timezone FROM leads WHERE email = 'new1@example.com'")).rows[0];
    expect(imported).toEqual({ attributes: { first_name: 'Ann', role: 'manager', favourite_colour: 'blue', company: { name: 'Acme', employees: 250 } }, timezone: 'Europe/Berlin' });
    expect((await api.db.pool.query("SELECT attributes->>'first_name' AS name FROM leads WHERE email = 'o''hara@example.com'")).rows).toEqual([{ name: "'); DROP TABLE leads;--" }]);
    const consent = await api.db.pool.query("SELECT l.email, c.granted, c.source FROM consent_records c JOIN leads l ON l.id = c.lead_id WHERE c.source = 'import' ORDER BY l.email");
    expect(consent.rows).toEqual([{ email: 'known@example.com', granted: false, source: 'import' }, { email: 'new1@example.com', granted: true, source: 'import' }]);
    expect(api.engine.of('consentChanged')).toContainEqual({ method: 'consentChanged', leadId: existing, purpose: 'marketing_email', granted: false });
  });

  it('keeps the rows before an unreadable part of the file', async () => {
    const response = await csv('email,first_name\nok1@example.com,A\nok2@example.com,"unclosed\n');
    expect(response.statusCode).toBe(200);
    expect(response.json().imported).toBe(1);
    expect(response.json().errors[0].reason).toMatch(/unreadable CSV/);
  });

  it('refuses a file without an email column, an empty file and a non-CSV body, changing nothing', async () => {
    const before = await tableCounts(api.db);
    expect((await csv('name,company\nx,y\n')).statusCode).toBe(400);
    expect((await csv('')).statusCode).toBe(400);
    const json = await api.call({ method: 'POST', url: '/v1/leads/import', payload: { email: 'x@example.com' } });
    expect(json.statusCode).toBe(415);
    expect(await tableCounts(api.db)).toEqual(before);
  });
});
