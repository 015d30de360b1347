// Hostile input never blocks the API nor answers 5xx: over real HTTP on a real database, each
// request below gets its documented 4xx (or its answer), and GET /healthz — polled every 20 ms
// while the request runs — keeps answering within 100 ms, because campaign parsing and
// simulations run in worker threads and are bounded before anything costly happens.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_READ_TIMEOUT_MS, MAX_CAMPAIGN_BODY } from '../../api/routes/campaigns';
import { SIMULATION_LIMITS } from '../../api/routes/simulate';
import { CAMPAIGN_TEXT_LIMITS } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { startTestApi, tableCounts, type TestApi } from './support';

const DEMO = readFileSync(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8');
const DEMO_LINES = DEMO.split('\n').length; // the line of anything appended to DEMO
const { maxDepth, maxAliases } = CAMPAIGN_TEXT_LIMITS;
/** Every health poll, across the file: the figures for the report at the end. */
const healthFigures: { name: string; polls: number; maxMs: number; requestMs: number }[] = [];

let api: TestApi;
let base: string;

beforeAll(async () => {
  api = await startTestApi();
  base = await api.app.listen({ port: 0, host: '127.0.0.1' });
  // A connection in the pool, a JIT-warm health route and a started reading thread, as on a running server.
  for (let i = 0; i < 5; i++) await fetch(`${base}/healthz`).then((response) => response.text());
  await send('POST', '/v1/campaigns/validate', { key: api.readKey, body: DEMO });
});
afterAll(async () => {
  console.log(`/healthz while hostile requests ran:\n${healthFigures.map((f) => `  ${f.name}: ${f.polls} polls, max ${f.maxMs.toFixed(1)} ms (request ${f.requestMs.toFixed(0)} ms)`).join('\n')}`);
  await api?.close();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; details?: { path: string; message: string; line?: number }[] } } & Record<string, unknown>;
  headers: Headers;
}

/**
 * Runs `request` while GET /healthz is polled every 20 ms (one at a time); answers the request's
 * answer with the slowest health answer seen. The request runs in this very process, so an event
 * loop held by the server would hold the polls too.
 */
async function duringHealthPolls<T>(name: string, request: () => Promise<T>): Promise<{ result: T; maxHealthMs: number }> {
  let running = true;
  let polls = 0;
  let maxMs = 0;
  const poller = (async () => {
    while (running || polls === 0) {
      const started = performance.now();
      const response = await fetch(`${base}/healthz`);
      await response.text();
      const ms = performance.now() - started;
      expect(response.status).toBe(200);
      polls += 1;
      maxMs = Math.max(maxMs, ms);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20 - ms)));
    }
  })();
  const started = performance.now();
  let result: T;
  try {
    result = await request();
  } finally {
    running = false;
    await poller.catch(() => undefined);
    healthFigures.push({ name, polls, maxMs, requestMs: performance.now() - started });
  }
  await poller; // its failures (a health answer other than 200)
  return { result, maxHealthMs: maxMs };
}

async function send(method: string, path: string, { key, body, type }: { key?: string; body?: string; type?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${key ?? api.writeKey}` };
  if (body !== undefined) headers['content-type'] = type ?? 'application/yaml';
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

/** The request while /healthz is polled: its answer, never 5xx, and health answered within 100 ms throughout. */
async function hostile(name: string, method: string, path: string, options: Parameters<typeof send>[2] = {}): Promise<Answer> {
  const { result, maxHealthMs } = await duringHealthPolls(name, () => send(method, path, options));
  expect(result.status, JSON.stringify(result.body)).toBeLessThan(500);
  expect(maxHealthMs, `${name}: slowest /healthz`).toBeLessThan(100);
  return result;
}

const validate = (name: string, body: string, key = api.readKey) => hostile(name, 'POST', '/v1/campaigns/validate', { key, body });

/** The one problem of a refused campaign. */
function problem(answer: Answer) {
  expect(answer.status).toBe(422);
  expect(answer.body.error?.code).toBe('invalid_campaign');
  expect(answer.body.error?.details).toHaveLength(1);
  return answer.body.error!.details![0]!;
}

describe('campaign uploads', () => {
  it('validates with a read key: it stores nothing', async () => {
    const answer = await validate('validate, read key', DEMO);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, id: 'saas-whitepaper-nurture', warnings: [] });
  });

  it('refuses an alias bomb (billion laughs) with 422 naming it, on validate and on create, storing nothing', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const bomb = `${DEMO}description:\n${levels.map((line) => `  ${line}`).join('\n')}\n`;
    const before = await tableCounts(api.db);
    for (const [path, key] of [['/v1/campaigns/validate', api.readKey], ['/v1/campaigns', api.writeKey]] as const) {
      const answer = await hostile(`alias bomb (${path})`, 'POST', path, { key, body: bomb });
      expect(problem(answer)).toEqual({ path: '(file)', message: expect.stringMatching(/aliases .* expand too much .*alias bomb/), line: DEMO_LINES + 2 });
    }
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it(`accepts ${maxAliases} aliases, refuses more, and refuses aliases that expand the campaign too far`, async () => {
    const aliases = (n: number) => `${DEMO}description:\n  - &text hello\n${Array.from({ length: n }, () => '  - *text').join('\n')}\n`;
    expect((await validate('100 aliases', aliases(maxAliases))).status).toBe(200);
    expect(problem(await validate('101 aliases', aliases(maxAliases + 1)))).toMatchObject({ message: /too many aliases: more than 100/, line: expect.any(Number) });
    // The most expansion the alias limit lets through: a 100 KB anchor aliased 99 times.
    const expanding = `${DEMO}description:\n  - &big "${'x'.repeat(100_000)}"\n${Array.from({ length: maxAliases - 1 }, () => '  - *big').join('\n')}\n`;
    expect(problem(await validate('aliases expanding 10 MB', expanding))).toMatchObject({ message: /expand it beyond 1,048,576 characters/, line: DEMO_LINES + 2 });
  });

  it(`accepts nesting ${maxDepth} levels deep and refuses level ${maxDepth + 1} at its line`, async () => {
    const flow = (levels: number) => `${DEMO}description: ${'['.repeat(levels)}${']'.repeat(levels)}\n`;
    expect((await validate('depth 64', flow(maxDepth - 1))).status).toBe(200);
    expect(problem(await validate('depth 65', flow(maxDepth)))).toEqual({ path: '(file)', message: `the campaign is nested too deeply: more than ${maxDepth} levels`, line: DEMO_LINES });
    const blocks = `${DEMO}description:\n${'- '.repeat(maxDepth + 10)}x\n`;
    expect(problem(await validate('depth 75, block style', blocks))).toMatchObject({ message: /nested too deeply/, line: DEMO_LINES + 1 });
  });

  it('refuses the largest body of brackets it takes (the probe took 8.8 s to parse 800 KB of them) at once', async () => {
    for (const bracket of ['[', '{']) {
      expect(problem(await validate(`${MAX_CAMPAIGN_BODY} bytes of ${bracket}`, bracket.repeat(MAX_CAMPAIGN_BODY)))).toMatchObject({ message: /nested too deeply/, line: 1 });
    }
    // JSON text is bounded the same way.
    const json = `{"id": "x", "description": ${'['.repeat(maxDepth + 1)}${']'.repeat(maxDepth + 1)}}`;
    expect(problem(await validate('deep JSON text', json))).toMatchObject({ message: /nested too deeply/, line: 1 });
  });

  it('reads the worst text the limits admit — the largest body, nested to the limit throughout — off the event loop', async () => {
    const deep = '['.repeat(maxDepth - 2) + 'a' + ']'.repeat(maxDepth - 2);
    let body = `${DEMO}description: [`;
    while (body.length + deep.length + 10 < MAX_CAMPAIGN_BODY) body += `${deep}, `;
    body += 'a]\n';
    const started = performance.now();
    const answer = await validate('largest body at the deepest nesting', body);
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(CAMPAIGN_READ_TIMEOUT_MS / 3);
  });

  it('refuses a body larger than the limit with 413, unread', async () => {
    for (const [name, body, type] of [
      ['YAML over the limit', `${DEMO}description: "${'x'.repeat(MAX_CAMPAIGN_BODY)}"\n`, 'application/yaml'],
      ['JSON over the limit', JSON.stringify({ id: 'x', description: 'x'.repeat(MAX_CAMPAIGN_BODY) }), 'application/json'],
      ['2 MB of YAML', 'x'.repeat(2 * 1024 * 1024), 'application/yaml'],
    ] as const) {
      for (const path of ['/v1/campaigns/validate', '/v1/campaigns']) {
        const answer = await hostile(name, 'POST', path, { body, type });
        expect(answer.status).toBe(413);
        expect(answer.body.error?.code).toBe('payload_too_large');
      }
    }
  });

  it('answers malformed YAML with 422 and its line, and a run of syntax errors with the first of them', async () => {
    const malformed = await validate('malformed YAML', `${DEMO}description: [unclosed, {also: unclosed\n`);
    expect(malformed.status).toBe(422);
    expect(malformed.body.error?.code).toBe('invalid_campaign');
    expect(malformed.body.error?.details?.[0]).toMatchObject({ path: '(file)', message: /^invalid YAML: .*must be sufficiently indented and end with/, line: expect.any(Number) });
    const errors = `${DEMO}${'}\n'.repeat(100_000)}`;
    expect(problem(await validate('100,000 syntax errors', errors))).toEqual({
      path: '(file)',
      message: `invalid YAML: more than 100 syntax errors, the first on line ${DEMO_LINES}: Unexpected flow-map-end token in YAML stream`,
      line: DEMO_LINES,
    });
  });

  it('lists at most 100 problems of a campaign with thousands', async () => {
    const steps = Array.from({ length: 3000 }, () => '    - wait: soon').join('\n');
    const answer = await validate('3,000 invalid steps', DEMO.replace(/  cold:\n/, `  cold:\n${steps}\n`));
    expect(answer.status).toBe(422);
    expect(answer.body.error?.message).toBe('the campaign has 3000 problems; the first 100 are listed');
    expect(answer.body.error?.details).toHaveLength(100);
  });

  it('finds duplicate keys among 20,000 without taking seconds, and refuses a condition nested too deeply', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join('\n');
    expect((await validate('20,000 keys in a mapping', `${DEMO}description:\n${keys}\n`)).status).toBe(200);
    expect(problem(await validate('20,000 keys, one twice', `${DEMO}description:\n${keys}\n  k1: 2\n`))).toMatchObject({ message: 'invalid YAML: Map keys must be unique', line: DEMO_LINES + 20_001 });
    const parens = DEMO.replace('- "score >= 75"', `- "${'('.repeat(20_000)}score >= 75${')'.repeat(20_000)}"`);
    expect(problem(await validate('a condition 20,000 parentheses deep', parens))).toMatchObject({ path: 'qualify.all[0]', message: /nested more than 32 levels/ });
  });
});

describe('campaign uploads at once', () => {
  it('reads 4 at a time per key and refuses the fifth with 429, the others still answered', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join('\n');
    const body = `${DEMO}description:\n${keys}\n`;
    const { result } = await duringHealthPolls('five campaigns at once, one key', () =>
      Promise.all(Array.from({ length: 5 }, () => send('POST', '/v1/campaigns/validate', { key: api.readKey, body }))),
    );
    const statuses = result.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = result.find((answer) => answer.status === 429)!;
    expect(refused.body.error).toEqual({ code: 'busy', message: 'too many campaigns are being read at once; retry in a few seconds' });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(healthFigures.at(-1)!.maxMs).toBeLessThan(100);
  });
});

describe('the OpenAPI document', () => {
  it("lists each route's refusals with what they mean", async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, { post: { responses: object } }> };
    const described = (path: string) =>
      Object.fromEntries(Object.entries(document.paths[path]!.post.responses as Record<string, { description: string }>).map(([status, { description }]) => [status, description.split(':')[0]]));
    for (const path of ['/v1/campaigns', '/v1/campaigns/validate']) expect(described(path)).toMatchObject({ 413: 'payload_too_large', 422: 'invalid_campaign', 429: 'busy' });
    expect(described('/v1/campaigns/{id}/simulate')).toMatchObject({ 403: 'forbidden', 404: 'not_found', 422: 'simulation_timeout', 429: 'too_many_simulations' });
  });
});

describe('simulations', () => {
  /** The demo's cold track replaced by a loop that wakes every minute: a simulation that never ends in time. */
  const SLOW = DEMO.replace('id: saas-whitepaper-nurture', 'id: slow-loop').replace(/  cold:\n[\s\S]*?  warm:/, '  cold:\n    - { wait: 1m, label: tick }\n    - goto: tick\n  warm:');
  const simulate = (name: string, id: string, payload: object, key = api.writeKey) => hostile(name, 'POST', `/v1/campaigns/${id}/simulate`, { key, body: JSON.stringify(payload), type: 'application/json' });

  beforeAll(async () => {
    for (const body of [DEMO, SLOW]) expect((await send('POST', '/v1/campaigns', { body })).status).toBe(201);
  });

  it('refuses a read key with 403', async () => {
    const answer = await simulate('simulate, read key', 'saas-whitepaper-nurture', { leads: 10 }, api.readKey);
    expect(answer.status).toBe(403);
    expect(answer.body.error?.code).toBe('forbidden');
  });

  it(`runs the largest simulation (${SIMULATION_LIMITS.leads} leads × ${SIMULATION_LIMITS.days} days) off the event loop`, async () => {
    const answer = await simulate('largest simulation', 'saas-whitepaper-nurture', { leads: SIMULATION_LIMITS.leads, days: SIMULATION_LIMITS.days, seed: 3 });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ leads: SIMULATION_LIMITS.leads, days: SIMULATION_LIMITS.days, funnel: { enrolled: SIMULATION_LIMITS.leads } });
  });

  it(`runs one simulation at a time per key and ${SIMULATION_LIMITS.concurrent} in all (one core fewer than the machine's; 429 beyond), and stops one that runs too long (422)`, async () => {
    const { concurrent } = SIMULATION_LIMITS;
    const keys = [api.writeKey, ...(await Promise.all(Array.from({ length: concurrent }, async (_, i) => (await createApiKey(api.db.pool, `hostile ${i}`, ['read', 'write'])).key)))];
    const timeoutMs = SIMULATION_LIMITS.timeoutMs;
    SIMULATION_LIMITS.timeoutMs = 4000;
    try {
      const endless = { leads: SIMULATION_LIMITS.leads, days: SIMULATION_LIMITS.days };
      const { result } = await duringHealthPolls(`${concurrent} endless simulation${concurrent === 1 ? "" : "s"}, two refused`, async () => {
        const running = keys.slice(0, concurrent).map((key, i) => simulate(`endless simulation, key ${i + 1}`, 'slow-loop', endless, key));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const sameKey = await simulate('second simulation, same key', 'saas-whitepaper-nurture', { leads: 10 });
        const otherKey = await simulate('one more simulation at once', 'saas-whitepaper-nurture', { leads: 10 }, keys[concurrent]);
        return { stopped: await Promise.all(running), sameKey, otherKey };
      });
      expect(result.sameKey.status).toBe(429);
      expect(result.sameKey.body.error).toEqual({ code: 'too_many_simulations', message: 'this API key already runs a simulation; wait for it to finish' });
      expect(result.sameKey.headers.get('retry-after')).toBe('10');
      expect(result.otherKey.status).toBe(429);
      expect(result.otherKey.body.error).toEqual({
        code: 'too_many_simulations',
        message: `${concurrent === 1 ? 'a simulation is' : `${concurrent} simulations are`} running, the most the API runs at once; retry in a few seconds`,
      });
      for (const stopped of result.stopped) {
        expect(stopped.status).toBe(422);
        expect(stopped.body.error).toEqual({
          code: 'simulation_timeout',
          message: `the simulation of ${SIMULATION_LIMITS.leads} leads over ${SIMULATION_LIMITS.days} days did not finish within 4 s and was stopped; simulate fewer leads or days`,
        });
      }
    } finally {
      SIMULATION_LIMITS.timeoutMs = timeoutMs;
    }
    // The stopped threads are replaced: every key simulates again.
    for (const key of keys) expect((await simulate('after the timeouts', 'saas-whitepaper-nurture', { leads: 50, days: 10 }, key)).status).toBe(200);
  });
});
