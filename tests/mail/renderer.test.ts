import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES_DIR, TemplateError, TemplateLibrary, type RenderRequest } from '../../mail/renderer';

const MARKETING = ['welcome', 'case-study', 'reminder', 'webinar-invite', 'webinar-followup', 'pricing', 'demo-invite', 'product-tour'];
const SALES = ['sales-handoff', 'sales-reminder', 'sales-escalation', 'sales-alert'];
const INTERNAL = ['internal-notice'];

const HOSTILE = '<script>alert("x")</script> & Bob';

function sampleData(firstName = 'Hanako'): Record<string, unknown> {
  return {
    lead: {
      first_name: firstName,
      last_name: 'Yamada',
      email: 'hanako+news@globex.example',
      role: 'director',
      region: 'JP-East',
      company: { name: 'Globex K.K.', employees: 420 },
    },
    campaign: { id: 'wp', version: 3, name: 'Whitepaper to demo' },
    sender: { name: 'Acme Marketing', email: 'marketing@acme.example' },
    owner: { name: 'Ken Sato', email: 'ken@acme.example' },
    manager: { name: 'Mika Ito', email: 'mika@acme.example' },
    score: 74,
    reasons: ['score 74 ≥ 70', 'viewed pricing twice in 14 days'],
    breakdown: [
      { label: 'company ≥ 100 employees', points: 15 },
      { label: 'pricing page viewed', points: 30 },
    ],
    recent_activity: [{ at: '2026-11-20 10:12', description: 'Viewed the pricing page' }],
    deadline: 'Thursday 26 November 2026, 18:00 JST',
    actions: {
      accept: 'https://nurture.acme.example/h/1/accept?sig=a',
      not_ready: 'https://nurture.acme.example/h/1/not_ready?sig=b',
      disqualify: 'https://nurture.acme.example/h/1/disqualify?sig=c',
    },
  };
}

interface Click { url: string; index: number }

function request(template: string, overrides: Partial<RenderRequest> = {}, clicks: Click[] = []): RenderRequest {
  return {
    template,
    subject: '{{lead.first_name}}, a note from {{sender.name}}',
    data: sampleData(),
    links: {
      click: (url, index) => {
        clicks.push({ url, index });
        return `https://t.acme.example/c/${index}/${Buffer.from(url).toString('base64url')}`;
      },
      openPixel: 'https://t.acme.example/o/key1.gif',
      unsubscribe: 'https://t.acme.example/u/key1',
    },
    ...overrides,
  };
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)].map((match) => match[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'));
}

let library: TemplateLibrary;
beforeAll(async () => {
  library = await TemplateLibrary.load();
}, 60_000);

describe('the shipped templates', () => {
  it('are all there and compile exactly once each', () => {
    expect(library.names()).toEqual([...MARKETING, ...SALES, ...INTERNAL].sort());
    expect(library.compileCount()).toBe(library.names().length);
  });

  it.each(MARKETING)('%s renders html and text with the lead data and a visible unsubscribe link', (name) => {
    const clicks: Click[] = [];
    const email = library.render(request(name, {}, clicks));
    expect(email.subject).toBe('Hanako, a note from Acme Marketing');
    expect(email.html).toMatch(/^<!doctype html>/i);
    expect(email.html).toContain('Hanako');
    expect(email.text).toContain('Hanako');
    expect(email.text).not.toMatch(/\{\{|\}\}/);
    expect(hrefs(email.html)).toContain('https://t.acme.example/u/key1');
    expect(email.text).toContain('Unsubscribe [https://t.acme.example/u/key1]');
    // Each marketing template has at least one call to action, tracked.
    expect(clicks.length).toBeGreaterThan(0);
    for (const click of clicks) expect(click.url).toMatch(/^https:\/\/acme\.example\//);
  });

  it.each(SALES)('%s renders for the rep with untracked, signed answer links', (name) => {
    const clicks: Click[] = [];
    const email = library.render(request(name, { links: { click: (url, index) => (clicks.push({ url, index }), 'TRACKED') } }, clicks));
    const links = hrefs(email.html);
    expect(clicks).toEqual([]);
    expect(links).toContain('https://nurture.acme.example/h/1/accept?sig=a');
    expect(email.html).not.toContain('notrack');
    expect(email.text).toContain('[https://nurture.acme.example/h/1/accept?sig=a]');
    expect(email.text).toContain('Yamada');
    expect(email.headers).toEqual({});
  });

  it('the internal notice (a notify step) says who, where in the campaign, the stage and the score, with no unsubscribe or pixel', () => {
    const email = library.render(request('internal-notice', { data: { ...sampleData(), step: 'tell-the-team', stage: 'warm' }, links: { click: (url) => url } }));
    for (const expected of ['Hanako Yamada reached tell-the-team', 'Globex K.K.', 'hanako+news@globex.example', 'Whitepaper to demo', 'stage warm, score 74']) {
      expect(email.text).toContain(expected);
    }
    expect(email.html).toContain('Hanako Yamada reached tell-the-team');
    expect(email.html).not.toContain('https://t.acme.example/u/key1');
    expect(email.html).not.toContain('key1.gif');
    expect(email.headers).toEqual({});
  });

  it('the handoff notice carries who, why now, the score breakdown, recent activity and the deadline, in both parts', () => {
    const email = library.render(request('sales-handoff'));
    for (const part of [email.html, email.text]) {
      for (const expected of ['Globex K.K.', 'director', 'hanako+news@globex.example', 'viewed pricing twice in 14 days', '74',
        'pricing page viewed', 'Viewed the pricing page', 'Thursday 26 November 2026, 18:00 JST']) {
        expect(part).toContain(expected);
      }
    }
    expect(hrefs(email.html)).toEqual(expect.arrayContaining(['mailto:hanako+news@globex.example',
      'https://nurture.acme.example/h/1/not_ready?sig=b', 'https://nurture.acme.example/h/1/disqualify?sig=c']));
    // Every breakdown row survives into the text part, one per line.
    expect(email.text).toMatch(/^company ≥ 100 employees \| 15$/m);
    expect(email.text).toMatch(/^pricing page viewed \| 30$/m);
  });
});

describe('escaping', () => {
  it('escapes hostile lead data in html and keeps it verbatim in text', () => {
    const email = library.render(request('welcome', { data: sampleData(HOSTILE) }));
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Bob');
    expect(email.text).toContain(`Hi ${HOSTILE}, your guide is here`);
    expect(email.text).not.toMatch(/&lt;|&amp;|&quot;/);
  });

  it('keeps the subject on one line and unescaped', () => {
    const email = library.render(request('welcome', {
      subject: 'Hi {{lead.first_name}}\r\nBcc: victim@example.com',
      data: sampleData('Tom & Jerry\r\nX-Injected: yes\n'),
    }));
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe('Hi Tom & Jerry X-Injected: yes Bcc: victim@example.com');
  });
});

describe('links, pixel and headers', () => {
  it('passes every tracked link through links.click with its original URL and index', () => {
    const clicks: Click[] = [];
    const email = library.render(request('reminder', {}, clicks));
    expect(clicks).toEqual([
      { url: 'https://acme.example/guides/data-driven-growth.pdf', index: 0 },
      { url: 'https://acme.example/guides/data-driven-growth-summary', index: 1 },
    ]);
    const tracked = clicks.map(({ url, index }) => `https://t.acme.example/c/${index}/${Buffer.from(url).toString('base64url')}`);
    expect(hrefs(email.html)).toEqual([...tracked, 'https://t.acme.example/u/key1']);
    for (const url of tracked) expect(email.text).toContain(url);
    expect(email.html).not.toContain('acme.example/guides');
  });

  it('renders Handlebars inside an href before tracking it', () => {
    const clicks: Click[] = [];
    library.render(request('demo-invite', {}, clicks));
    expect(clicks).toEqual([{ url: 'https://acme.example/demo?email=hanako%2Bnews%40globex.example', index: 0 }]);
  });

  it('sets List-Unsubscribe headers per RFC 8058 only when an unsubscribe URL is given', () => {
    expect(library.render(request('welcome')).headers).toEqual({
      'List-Unsubscribe': '<https://t.acme.example/u/key1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    const without = library.render(request('welcome', { links: { click: (url) => url } }));
    expect(without.headers).toEqual({});
  });

  it('adds the open pixel before </body> only when given', () => {
    const pixel = /<img src="https:\/\/t\.acme\.example\/o\/key1\.gif" width="1" height="1"[^>]*\/><\/body>/;
    expect(library.render(request('welcome')).html).toMatch(pixel);
    const without = library.render(request('welcome', { links: { click: (url) => url, unsubscribe: 'https://t.acme.example/u/key1' } }));
    expect(without.html).not.toMatch(/width="1" height="1"/);
  });

  it('renders from the cache: no MJML compilation per email', () => {
    const before = library.compileCount();
    for (let i = 0; i < 50; i++) library.render(request('welcome', { data: sampleData(`Lead ${i}`) }));
    expect(library.compileCount()).toBe(before);
  });
});

describe('templates in a directory of their own', () => {
  let dir: string;
  const write = (name: string, body: string) => writeFileSync(join(dir, `${name}.mjml`), body);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nurture-templates-'));
    mkdirSync(join(dir, 'layouts'));
    copyFileSync(join(TEMPLATES_DIR, 'layouts', 'marketing.mjml'), join(dir, 'layouts', 'marketing.mjml'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const section = (inner: string) => `<mj-section>\n  <mj-column>\n${inner}\n  </mj-column>\n</mj-section>\n`;

  it('tracks literal and expression http(s) hrefs, but not mailto:, rel="notrack" or the unsubscribe link', async () => {
    write('links', section([
      '    <mj-text><a href="https://acme.example/r?id={{lead.id}}&amp;src=mail">one</a> <a href="mailto:sales@acme.example">mail us</a></mj-text>',
      '    <mj-text><a href="{{campaign.landing}}">two</a> <a href="{{contact}}">three</a> <a rel="notrack" href="https://acme.example/private">four</a></mj-text>',
      '    <mj-button href="{{campaign.landing}}" rel="notrack">five</mj-button>',
    ].join('\n')));
    const templates = new TemplateLibrary(dir);
    await templates.warm(['links']);
    const clicks: Click[] = [];
    const email = templates.render(request('links', {
      data: { lead: { id: 'L<1>' }, campaign: { landing: 'https://acme.example/landing' }, contact: 'mailto:x@acme.example' },
    }, clicks));
    expect(clicks).toEqual([
      { url: 'https://acme.example/r?id=L<1>&src=mail', index: 0 },
      { url: 'https://acme.example/landing', index: 1 },
    ]);
    const links = hrefs(email.html);
    expect(links).toEqual(expect.arrayContaining(['mailto:sales@acme.example', 'mailto:x@acme.example', 'https://acme.example/private',
      'https://acme.example/landing', 'https://t.acme.example/u/key1']));
    expect(email.html).not.toContain('notrack');
  });

  it('compiles once per template version and again when the file changes', async () => {
    write('versioned', section('    <mj-text>Version one for {{lead.first_name}}</mj-text>'));
    const templates = new TemplateLibrary(dir);
    expect(templates.has('versioned')).toBe(true);
    const v1 = templates.version('versioned');
    await templates.warm(['versioned']);
    await templates.warm(['versioned']);
    expect(templates.compileCount()).toBe(1);
    expect(templates.render(request('versioned')).text).toContain('Version one for Hanako');

    write('versioned', section('    <mj-text>Version two for {{lead.first_name}}</mj-text>'));
    expect(templates.version('versioned')).not.toBe(v1);
    await templates.warm(['versioned']);
    expect(templates.compileCount()).toBe(2);
    expect(templates.render(request('versioned')).text).toContain('Version two for Hanako');
  });

  it('reports broken MJML with the template name and its line', async () => {
    write('broken', section('    <mj-text>fine</mj-text>\n    <mj-text colour="red">typo</mj-text>'));
    const error = await new TemplateLibrary(dir).warm(['broken']).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ template: 'broken', line: 4 });
    expect((error as TemplateError).message).toMatch(/broken\.mjml line 4 \(mj-text\): Attribute colour is illegal/);
  });

  it('reports Handlebars syntax errors with the template name and its line', async () => {
    write('bad-handlebars', section('    <mj-text>Hi {{lead.first_name}</mj-text>'));
    const error = await new TemplateLibrary(dir).warm(['bad-handlebars']).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ template: 'bad-handlebars', line: 3 });
  });

  it('refuses unknown templates and templates not warmed yet', () => {
    const templates = new TemplateLibrary(dir);
    expect(() => templates.render(request('nope'))).toThrow(TemplateError);
    expect(() => templates.render(request('nope'))).toThrow(/template nope: no such template/);
    expect(() => templates.version('nope')).toThrow(TemplateError);
    expect(templates.has('nope')).toBe(false);
    write('cold', section('    <mj-text>cold</mj-text>'));
    expect(() => templates.render(request('cold'))).toThrow(/template cold: not compiled yet/);
  });

  it('turns a Handlebars runtime error into a TemplateError naming the template', async () => {
    write('helper', section('    <mj-text>{{no_such_helper lead.first_name}}</mj-text>'));
    const error = await new TemplateLibrary(dir).warm(['helper']).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).template).toBe('helper');
  });
});
