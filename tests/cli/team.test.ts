// `nurture team …` against the real API (listening on a port) over a real database: pools, reps,
// absences, the team CSV import, the rep's page link and the desk. The sales-team routes need no
// workflow engine, so the API runs with the recording one. For speed the commands are called in
// this process with the options the command line would parse; a few runs of the real `nurture`
// process check the command line itself: option parsing (a bad value refused before any
// request), exit codes and help.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseDays,
  parseHours,
  parseMoment,
  parseWeight,
  teamAddCommand,
  teamAwayCommand,
  teamBackCommand,
  teamDeskCommand,
  teamImportCommand,
  teamLinkCommand,
  teamPoolCommand,
  teamPoolsCommand,
  teamRepsCommand,
  teamSetCommand,
} from '../../cli/commands/team';
import type { CommandOutput } from '../../cli/exit-codes';
import { createLead, seedEnrolment, startTestApi, type TestApi } from '../api/support';

let api: TestApi;
let apiUrl: string;
let dataDir: string;
/** A server that counts the requests it gets, for the runs that must make none. */
let counter: Server;
let counterUrl: string;
let counted = 0;

beforeAll(async () => {
  api = await startTestApi();
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'nurture-team-'));
  counter = createServer((_request, response) => {
    counted++;
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  counterUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => counter?.close(resolve));
  await api?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The API options every command gets (as --api-url and --api-key would give them). */
const keys = () => ({ apiUrl, apiKey: api.writeKey });

/** One command called in this process, its output captured. */
async function run(command: (out: CommandOutput) => Promise<number>): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await command({ log: (line) => stdout.push(line), error: (line) => stderr.push(line) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** The real `nurture` process (no stack file of a real `npm start` is read). */
async function nurture(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const childEnv = { ...process.env, NURTURE_DATA_DIR: dataDir, NURTURE_API_URL: apiUrl, NURTURE_API_KEY: api.writeKey, ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/nurture.ts', ...args], { cwd: process.cwd(), env: childEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const repCount = async () => (await api.db.pool.query('SELECT count(*)::int AS n FROM sales_reps')).rows[0].n as number;

describe('nurture team pool and pools', () => {
  it('creates a pool, changes one field keeping the rest, shows it and lists it', async () => {
    const created = await run((out) =>
      teamPoolCommand(
        'japan',
        {
          ...keys(),
          managerEmail: 'boss@acme.example',
          managerName: 'Sato',
          timezone: 'Asia/Tokyo',
          days: parseDays('mon-fri'),
          hours: parseHours('09:30-18:00'),
          holidays: 'JP',
          holidayDates: ['2026-12-29', '2026-12-30'],
        },
        out,
      ),
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('pool japan created');
    expect(created.stdout).toContain('manager   Sato <boss@acme.example>');
    expect(created.stdout).toContain('hours     mon-fri 09:30-18:00 Asia/Tokyo');
    expect(created.stdout).toContain('holidays  JP public holidays; also 2026-12-29, 2026-12-30');

    // A change needs no manager email: the pool's is kept, like everything not given.
    const changed = await run((out) => teamPoolCommand('japan', { ...keys(), hours: parseHours('10:00-19:00') }, out));
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('pool japan changed');
    expect(changed.stdout).toContain('manager   Sato <boss@acme.example>');
    expect(changed.stdout).toContain('hours     mon-fri 10:00-19:00 Asia/Tokyo');

    const shown = await run((out) => teamPoolCommand('japan', { ...keys() }, out));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^pool japan\n/);

    await run((out) => teamPoolCommand('europe', { ...keys(), managerEmail: 'eu@acme.example', timezone: 'Europe/Berlin', days: parseDays('mon,wed,fri') }, out));
    const listed = await run((out) => teamPoolsCommand({ ...keys() }, out));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/pool\s+manager\s+time zone\s+hours\s+holidays\n/);
    expect(listed.stdout).toMatch(/europe\s+eu@acme\.example\s+Europe\/Berlin\s+mon,wed,fri 09:00-18:00\s+–\n/);
    expect(listed.stdout).toMatch(/japan\s+Sato <boss@acme\.example>\s+Asia\/Tokyo\s+mon-fri 10:00-19:00\s+JP \+ 2 dates/);

    const json = await run((out) => teamPoolsCommand({ ...keys(), json: true }, out));
    expect(JSON.parse(json.stdout).pools.map((p: { name: string }) => p.name)).toEqual(['europe', 'japan']);
  });

  it('needs --manager-email to create a pool (exit 2), and names an unknown pool (exit 1)', async () => {
    const create = await run((out) => teamPoolCommand('americas', { ...keys(), timezone: 'America/New_York' }, out));
    expect(create.code).toBe(2);
    expect(create.stderr).toContain('pool americas does not exist yet: creating it needs --manager-email');
    const show = await run((out) => teamPoolCommand('americas', { ...keys() }, out));
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('no pool americas');
    expect((await api.call({ method: 'GET', url: '/v1/sales/pools/americas' })).statusCode).toBe(404);
  });
});

describe('nurture team add, reps, away, back and set', () => {
  it('adds a rep and lists them', async () => {
    const added = await run((out) =>
      teamAddCommand(
        'Aiko@Acme.example',
        { ...keys(), name: 'Aiko', pool: 'japan', territories: ['kanto'], products: ['crm'], languages: ['ja', 'en'], weight: 2, capacity: 5, hours: parseHours('10:00-19:00') },
        out,
      ),
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('added aiko@acme.example to pool japan');
    expect(added.stdout).toContain('covers    territories kanto; products crm; languages ja, en');
    expect(added.stdout).toContain('load      weight 2; 0 open handoffs of 5');
    expect(added.stdout).toContain("hours     the pool's days 10:00-19:00, in the pool's time zone");
    await run((out) => teamAddCommand('ben@acme.example', { ...keys(), name: 'Ben', pool: 'europe' }, out));

    const listed = await run((out) => teamRepsCommand({ ...keys() }, out));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/email\s+name\s+pool\s+weight\s+open\/capacity\s+status\n/);
    expect(listed.stdout).toMatch(/aiko@acme\.example\s+Aiko\s+japan\s+2\s+0\/5\s+available/);
    expect(listed.stdout).toMatch(/ben@acme\.example\s+Ben\s+europe\s+1\s+0\/no limit\s+available/);
    const japan = await run((out) => teamRepsCommand({ ...keys(), pool: 'japan' }, out));
    expect(japan.stdout).not.toContain('ben@');
  });

  it('refuses an unknown pool and an existing rep with exit 1, naming the option', async () => {
    const before = await repCount();
    const noPool = await run((out) => teamAddCommand('x@acme.example', { ...keys(), name: 'X', pool: 'nowhere' }, out));
    expect(noPool.code).toBe(1);
    expect(noPool.stderr).toContain('adding x@acme.example: refused\n  --pool: no sales pool "nowhere" (create it with: nurture team pool nowhere --manager-email <email>)');
    const again = await run((out) => teamAddCommand('AIKO@acme.example', { ...keys(), name: 'Again', pool: 'japan' }, out));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('cannot add AIKO@acme.example: already a rep; change them with: nurture team set');
    expect(await repCount()).toBe(before);
  });

  it('marks a rep away (a date read in their pool’s time zone) and back', async () => {
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const away = await run((out) => teamAwayCommand('aiko@acme.example', { ...keys(), until: parseMoment(tomorrow), note: 'conference' }, out));
    expect(away.stderr).toBe('');
    expect(away.code).toBe(0);
    // Midnight in Tokyo is 15:00 UTC the day before.
    const backAt = new Date(new Date(`${tomorrow}T00:00:00+09:00`).getTime()).toISOString().slice(0, 16).replace('T', ' ');
    expect(away.stdout).toContain(`aiko@acme.example is away from now until ${backAt} UTC (dates read in Asia/Tokyo)`);
    expect(away.stdout).toContain(`status    out of office until ${backAt} UTC`);
    expect(away.stdout).toMatch(/away {6}\d{4}-\d\d-\d\d \d\d:\d\d UTC → .* {2}conference {2}\(absence \d+\)/);
    const whileAway = await run((out) => teamRepsCommand({ ...keys(), pool: 'japan' }, out));
    expect(whileAway.stdout).toMatch(new RegExp(`aiko@acme\\.example .* out of office until ${backAt} UTC`));

    const back = await run((out) => teamBackCommand('aiko@acme.example', { ...keys() }, out));
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('aiko@acme.example is back');
    expect(back.stdout).toContain('status    available');
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps/aiko@acme.example' })).json()).toMatchObject({ available: true, absences: [] });

    const past = await run((out) => teamAwayCommand('aiko@acme.example', { ...keys(), until: parseMoment('2020-01-01T00:00Z') }, out));
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('--until 2020-01-01T00:00Z (2020-01-01 00:00 UTC) must be after now');
    const nobody = await run((out) => teamBackCommand('nobody@acme.example', { ...keys() }, out));
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain(`no rep nobody@acme.example at ${apiUrl}`);
  });

  it('changes only the fields given; --inactive takes the rep out of routing', async () => {
    const set = await run((out) => teamSetCommand('aiko@acme.example', { ...keys(), inactive: true, capacity: false }, out));
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('changed aiko@acme.example: capacity, active');
    expect(set.stdout).toContain('status    inactive');
    const rep = (await api.call({ method: 'GET', url: '/v1/sales/reps/aiko@acme.example' })).json();
    expect(rep).toMatchObject({ active: false, capacity: null, weight: 2, territories: ['kanto'], available: false, unavailable_reason: 'inactive' });
    const listed = await run((out) => teamRepsCommand({ ...keys(), pool: 'japan' }, out));
    expect(listed.stdout).toMatch(/aiko@acme\.example\s+Aiko\s+japan\s+2\s+0\/no limit\s+inactive/);

    const nothing = await run((out) => teamSetCommand('aiko@acme.example', { ...keys() }, out));
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to change for aiko@acme.example');
    const both = await run((out) => teamSetCommand('aiko@acme.example', { ...keys(), active: true, inactive: true }, out));
    expect(both.code).toBe(2);
    const nobody = await run((out) => teamSetCommand('nobody@acme.example', { ...keys(), weight: 3 }, out));
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no rep nobody@acme.example');
  });
});

describe('nurture team import', () => {
  const header = 'email,name,pool,territories,weight,capacity,working_days,working_hours,active';

  it('imports every row, creating and updating by email', async () => {
    const file = join(dataDir, 'team.csv');
    await writeFile(file, [header, 'carl@acme.example,Carl,japan,kanto;kansai,1,10,mon-fri,09:00-17:00,true', 'ben@acme.example,Ben B,europe,,3,,,,yes', ''].join('\n'));
    const r = await run((out) => teamImportCommand(file, { ...keys() }, out));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`imported 2 reps from ${file}: 1 new, 1 updated`);
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps/carl@acme.example' })).json()).toMatchObject({ territories: ['kanto', 'kansai'], capacity: 10 });
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps/ben@acme.example' })).json()).toMatchObject({ name: 'Ben B', weight: 3 });
  });

  it('refuses the whole file when a row is wrong, naming line and column, and changes nothing', async () => {
    const file = join(dataDir, 'bad-team.csv');
    await writeFile(file, [header, 'dana@acme.example,Dana,japan,,1,,,,', 'erin@acme.example,Erin,japan,,heavy,,,,', 'fay@acme.example,Fay,west,,1,,,,'].join('\n'));
    const before = await repCount();
    const r = await run((out) => teamImportCommand(file, { ...keys() }, out));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: line 3, column weight: expected a whole number from 1 to 100, got "heavy"`);
    expect(r.stderr).toContain(`${file}: line 4, column pool: no sales pool "west"`);
    expect(r.stderr).toContain('2 problems; nothing was imported');
    expect(await repCount()).toBe(before);

    const missing = await run((out) => teamImportCommand(join(dataDir, 'missing.csv'), { ...keys() }, out));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*missing\.csv: ENOENT/);
  });
});

describe('nurture team link and desk', () => {
  it("prints the rep's page link and when it expires", async () => {
    const r = await run((out) => teamLinkCommand('carl@acme.example', { ...keys() }, out));
    expect(r.code).toBe(0);
    const [url, expiry] = r.stdout.split('\n');
    expect(url).toMatch(/^https:\/\/nurture\.test\/r\/\S+$/);
    expect(expiry).toMatch(/^expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 1[34] d( \d+ h)?\)/);
    expect((await api.app.inject({ method: 'GET', url: new URL(url!).pathname })).statusCode).toBe(200);
  });

  it("prints each rep's load and SLA record, the handoffs waiting for an owner and the overdue ones", async () => {
    const carl = (await api.call({ method: 'GET', url: '/v1/sales/reps/carl@acme.example' })).json();
    const seed = async (email: string, id: string, fields: { owner: string | null; due: string; status?: string; responded?: string; reason?: string }) => {
      const leadId = await createLead(api, email);
      const { enrolmentId } = await seedEnrolment(api.db, leadId, 'desk-campaign');
      await api.db.pool.query(
        `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, owner_id, pool, status, score, reasons, breakdown, desk, first_contact_due, responded_at, unassigned_reason, created_at)
         VALUES ($1, $2, $3, 'desk-campaign', $4, 'japan', $5, 80, '[]', '{}', '{}', now() + $6::interval, now() + $7::interval, $8, now() - interval '2 hours')`,
        [id, enrolmentId, leadId, fields.owner, fields.status ?? 'pending', fields.due, fields.responded ?? null, fields.reason ?? null],
      );
    };
    await seed('waiting@example.com', 'h-waiting', { owner: null, due: '1 day', reason: 'every rep of japan is away' });
    await seed('late@example.com', 'h-late', { owner: carl.id, due: '-90 minutes' });
    await seed('done@example.com', 'h-done', { owner: carl.id, due: '-1 hour', status: 'converted', responded: '-2 hours' });

    const r = await run((out) => teamDeskCommand({ ...keys() }, out));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rep\s+pool\s+open\s+capacity\s+overdue\s+answered\s+in time\s+SLA\s+status\n/);
    expect(r.stdout).toMatch(/Carl <carl@acme\.example>\s+japan\s+1\s+10\s+1\s+1\s+1\s+100\.0%\s+available/);
    expect(r.stdout).toMatch(/Aiko <aiko@acme\.example>\s+japan\s+0\s+–\s+0\s+0\s+0\s+–\s+inactive/);
    expect(r.stdout).toMatch(/Waiting for an owner \(1\)\n.*\n\s+h-waiting\s+waiting@example\.com\s+desk-campaign\s+japan\s+80\s+2 h\s+.* UTC\s+every rep of japan is away/);
    expect(r.stdout).toMatch(/Overdue first contact \(1\)\n.*\n\s+h-late\s+Carl <carl@acme\.example>\s+late@example\.com\s+desk-campaign\s+japan\s+80\s+.* UTC\s+1 h 30 min/);

    const json = await run((out) => teamDeskCommand({ ...keys(), json: true }, out));
    expect(JSON.parse(json.stdout)).toMatchObject({ unassigned: [{ id: 'h-waiting' }], overdue: [{ id: 'h-late' }] });
  });
});

describe('the command line', () => {
  it('exits 3 when the API cannot be reached', async () => {
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const r = await run((out) => teamDeskCommand({ apiUrl: `http://127.0.0.1:${port}`, apiKey: api.writeKey }, out));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the API at http://127.0.0.1:${port} (from --api-url)`);
  });

  it('refuses a bad option value before any request, naming the option; runs a command and shows help', { timeout: 60_000 }, async () => {
    expect(() => parseWeight('abc')).toThrow('expected a whole number from 1 to 100');
    expect(() => parseMoment('next week')).toThrow('expected an ISO date or date-time');
    const [weight, reps, help] = await Promise.all([
      nurture(['team', 'add', 'x@acme.example', '--name', 'X', '--pool', 'japan', '--weight', 'abc'], { NURTURE_API_URL: counterUrl }),
      nurture(['team', 'reps', '--pool', 'japan']),
      nurture(['team', '--help']),
    ]);
    expect(weight.code).toBe(2);
    expect(weight.stderr).toContain("option '--weight <n>' argument 'abc' is invalid. expected a whole number from 1 to 100");
    expect(counted).toBe(0);

    expect(reps.stderr.replace(/^npm warn .*\n/gm, '')).toBe('');
    expect(reps.code).toBe(0);
    expect(reps.stdout).toMatch(/carl@acme\.example\s+Carl\s+japan\s+1\s+1\/10\s+available/);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: nurture team');
    for (const command of ['pools', 'pool', 'reps', 'add', 'set', 'away', 'back', 'import', 'link', 'desk']) expect(help.stdout).toMatch(new RegExp(`\\n\\s+${command}\\b`));
  });
});
