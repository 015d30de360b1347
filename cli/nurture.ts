#!/usr/bin/env -S npx tsx
// The `nurture` command line. Exit codes: see cli/exit-codes.ts.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { API_SCOPES, type ApiScope } from '../db/api-keys';
import { apiKeyCreateCommand } from './commands/api-key';
import { launchCommand } from './commands/launch';
import { leadsImportCommand } from './commands/leads-import';
import { campaignStatusCommand } from './commands/pause-resume';
import { simulateCommand } from './commands/simulate';
import { statsCommand } from './commands/stats';
import {
  parseCapacity,
  parseDates,
  parseDays,
  parseEmail,
  parseHolidayCountry,
  parseHours,
  parseList,
  parseMoment,
  parsePoolName,
  parseTimeZone,
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
} from './commands/team';
import { validateCommand } from './commands/validate';
import { testCommand } from './commands/test';
import { consoleOutput, EXIT } from './exit-codes';

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function scopeList(value: string): ApiScope[] {
  const scopes = value.split(',').map((scope) => scope.trim()).filter(Boolean);
  const unknown = scopes.filter((scope) => !API_SCOPES.includes(scope as ApiScope));
  if (scopes.length === 0 || unknown.length) throw new InvalidArgumentError(`expected a comma-separated list of ${API_SCOPES.join(', ')}`);
  return scopes as ApiScope[];
}

/** The options of every command that talks to the API (each falls back as described). */
function withApiOptions(command: Command): Command {
  return command
    .option('--api-url <url>', 'the API, e.g. http://localhost:3000 (default: NURTURE_API_URL, else the running npm start)')
    .option('--api-key <key>', 'an API key nk_… (default: NURTURE_API_KEY, else the running npm start); prefer the variable, options show in ps');
}

const program = new Command()
  .name('nurture')
  .description('Nurture: email nurture campaigns on Temporal')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('validate')
  .description('check a campaign file (YAML or JSON) and list every problem and warning with its line')
  .argument('<file>', 'campaign file')
  .option('--strict', 'fail (exit 1) on warnings too')
  .action(async (file: string, options: { strict?: boolean }) => {
    process.exitCode = await validateCommand(file, consoleOutput, { strict: options.strict === true });
  });

program
  .command('simulate')
  .description('run a campaign over synthetic leads in virtual time and print the projected funnel')
  .argument('<file>', 'campaign file')
  .option('--leads <n>', 'number of synthetic leads', wholeNumber, 1000)
  .option('--days <n>', 'days of virtual time', wholeNumber, 90)
  .option('--seed <n>', 'random seed (the same seed gives the same report)', wholeNumber, 1)
  .option('--profile <file>', 'JSON file overriding the default lead profile section by section (see --show-profile)')
  .option('--show-profile', 'print the lead profile in use (the defaults, or merged with --profile) as JSON and stop')
  .option('--json', 'print the result as JSON')
  .action(async (file: string, options) => {
    process.exitCode = await simulateCommand(file, options, consoleOutput);
  });

program
  .command('test')
  .description('run scripted leads (scenario files) through the campaign on the real engine in virtual time and check what they expect; exit 1 when an expectation fails')
  .argument('<campaign>', 'campaign file')
  .argument('<scenarios...>', 'scenario files (YAML)')
  .option('--database-server <url>', 'a PostgreSQL server to create scratch databases on (default: an embedded one of its own)')
  .option('--json', 'print each report as JSON')
  .action(async (campaign: string, scenarios: string[], options: { databaseServer?: string; json?: boolean }) => {
    process.exitCode = await testCommand(campaign, scenarios, options, consoleOutput);
  });

withApiOptions(
  program
    .command('launch')
    .description('upload a campaign file (YAML or JSON) as a new version and launch the campaign; with --segment or --leads, also enrol those known leads')
    .argument('<file|campaign-id>', 'campaign file (or, with --segment/--leads, the id of an active campaign)')
    .option('--segment <condition>', "enrol the leads matching a condition, e.g. \"lead.role == 'manager' && count('page.viewed', '90d') > 2\"")
    .option('--leads <file.csv>', 'enrol the leads of a CSV file with an email, lead_id or id column')
    .option('--per-minute <n>', 'pace: queue at most n leads a minute', wholeNumber)
    .option('--no-wait', 'print the launch and where to follow it, without waiting')
    .addHelpText(
      'after',
      `
Leads without the campaign's consent or with a suppressed address are skipped; a lead already in
the campaign is not enrolled again, and one who left it only as its re-entry rule allows. The
workers carry the launch out: an interrupted one resumes by itself, each lead queued once.`,
    ),
).action(async (target: string, options) => {
  process.exitCode = await launchCommand(target, options, consoleOutput);
});

for (const action of ['pause', 'resume'] as const) {
  withApiOptions(
    program
      .command(action)
      .description(action === 'pause' ? "pause an active campaign: its leads' emails and waits hold until resumed" : 'resume a paused campaign')
      .argument('<campaign-id>', 'the campaign id (the id: field of its file)'),
  ).action(async (campaignId: string, options) => {
    process.exitCode = await campaignStatusCommand(action, campaignId, options, consoleOutput);
  });
}

const leads = program.command('leads').description('manage leads');
withApiOptions(
  leads
    .command('import')
    .description('import leads from a CSV file and report every bad row with its line (exit 1 if any)')
    .argument('<file.csv>', 'CSV file with a header row, up to 50 MB')
    .addHelpText(
      'after',
      `
Columns (case-insensitive): email (required), first_name, last_name, company, employees, role,
region, country, timezone (IANA, e.g. Asia/Tokyo), consent (yes/no/empty), consent_purpose
(default marketing_email); any other column becomes a text attribute. Leads are matched by
email: importing again updates them.`,
    ),
).action(async (file: string, options) => {
  process.exitCode = await leadsImportCommand(file, options, consoleOutput);
});

withApiOptions(
  program
    .command('stats')
    .description("print a campaign's funnel, per-step and per-variant results and sales SLA compliance")
    .argument('<campaign-id>', 'the campaign id')
    .option('--json', 'print the API answer as JSON'),
).action(async (campaignId: string, options) => {
  process.exitCode = await statsCommand(campaignId, options, consoleOutput);
});

const team = program
  .command('team')
  .description('manage the sales team: pools, reps, absences, the team CSV, the sales desk')
  .addHelpText(
    'after',
    `
A rep is named by their email or id. Weekdays: mon-fri, mon,wed,fri or ISO numbers 1-5; hours:
09:00-18:00. A rep without their own time zone or hours works on their pool's. Every command
prints the API's answer as JSON with --json.`,
  );

const withJson = (command: Command) => withApiOptions(command.option('--json', "print the API's answer as JSON"));

/** What a rep covers and how much they take, for `team add` and `team set`. */
function withRepOptions(command: Command): Command {
  return command
    .option('--territories <list>', 'comma-separated territories the rep covers ("" for none)', parseList)
    .option('--products <list>', 'comma-separated products the rep covers ("" for none)', parseList)
    .option('--languages <list>', 'comma-separated languages the rep speaks, e.g. ja,en ("" for none)', parseList)
    .option('--weight <n>', "the rep's share of leads relative to the pool, 1-100 (default 1)", parseWeight)
    .option('--capacity <n>', 'the most open handoffs the rep holds at once (default: no limit)', parseCapacity)
    .option('--timezone <tz>', "the rep's own IANA time zone, e.g. Asia/Tokyo (default: the pool's)", parseTimeZone)
    .option('--days <days>', "the rep's own working days, e.g. mon-fri (default: the pool's)", parseDays)
    .option('--hours <from-to>', "the rep's own working hours, e.g. 09:00-18:00 (default: the pool's)", parseHours);
}

withJson(team.command('pools').description('list the sales pools: manager, time zone, working hours, holidays')).action(async (options) => {
  process.exitCode = await teamPoolsCommand(options, consoleOutput);
});

withJson(
  team
    .command('pool')
    .description('create or change a pool (only the options given change); without options, show it')
    .argument('<name>', 'the pool name (letters, digits, _ . -)', parsePoolName)
    .option('--manager-email <email>', "who handoffs escalate to (needed to create a pool; a change keeps the pool's)", parseEmail)
    .option('--manager-name <name>', "the manager's name")
    .option('--timezone <tz>', 'IANA time zone of the working hours, e.g. Asia/Tokyo (default UTC)', parseTimeZone)
    .option('--days <days>', 'working days, e.g. mon-fri (default mon-fri)', parseDays)
    .option('--hours <from-to>', 'working hours, e.g. 09:00-18:00 (default 09:00-18:00)', parseHours)
    .option('--holidays <country>', 'keep the public holidays of a country, e.g. JP', parseHolidayCountry)
    .option('--no-holidays', "keep no country's public holidays")
    .option('--holiday-dates <dates>', 'comma-separated extra days off, e.g. 2026-12-29,2026-12-30 ("" for none)', parseDates)
    .addHelpText('after', '\nSLA deadlines of handoffs run on the working hours, skipping holidays. Routing rules are set over the API (PUT /v1/sales/pools/<name>).'),
).action(async (name: string, options) => {
  process.exitCode = await teamPoolCommand(name, options, consoleOutput);
});

withJson(
  team
    .command('reps')
    .description('list the reps: pool, weight, open handoffs of their capacity, available or why not')
    .option('--pool <name>', "only this pool's reps", parsePoolName),
).action(async (options) => {
  process.exitCode = await teamRepsCommand(options, consoleOutput);
});

withJson(
  withRepOptions(
    team
      .command('add')
      .description('add a rep to a pool')
      .argument('<email>', "the rep's email", parseEmail)
      .requiredOption('--name <name>', "the rep's name")
      .requiredOption('--pool <pool>', 'the pool the rep works in', parsePoolName),
  ),
).action(async (email: string, options) => {
  process.exitCode = await teamAddCommand(email, options, consoleOutput);
});

withJson(
  withRepOptions(
    team
      .command('set')
      .description('change a rep: only the options given')
      .argument('<rep>', "the rep's email or id")
      .option('--name <name>', "the rep's name")
      .option('--pool <pool>', 'move the rep to another pool', parsePoolName),
  )
    .option('--no-capacity', 'no limit on open handoffs')
    .option('--pool-timezone', "use the pool's time zone again")
    .option('--pool-hours', "use the pool's working days and hours again")
    .addOption(new Option('--active', 'put the rep back into routing'))
    .addOption(new Option('--inactive', 'take the rep out of routing').conflicts('active')),
).action(async (rep: string, options) => {
  process.exitCode = await teamSetCommand(rep, options, consoleOutput);
});

withJson(
  team
    .command('away')
    .description('mark a rep out of office: routing skips them until they are back')
    .argument('<rep>', "the rep's email or id")
    .requiredOption('--until <when>', 'when they are back: an ISO date (the start of that day) or date-time', parseMoment)
    .option('--from <when>', 'when they leave (default now): an ISO date or date-time', parseMoment)
    .option('--note <text>', 'why, for the team')
    .addHelpText('after', "\nA date or a date-time without an offset is read in the rep's time zone (their own, else their pool's)."),
).action(async (rep: string, options) => {
  process.exitCode = await teamAwayCommand(rep, options, consoleOutput);
});

withJson(team.command('back').description("a rep is back: their absences end now (planned ones too) and they are active again").argument('<rep>', "the rep's email or id")).action(
  async (rep: string, options) => {
    process.exitCode = await teamBackCommand(rep, options, consoleOutput);
  },
);

withJson(
  team
    .command('import')
    .description('import reps from a CSV file: every row or none (a bad row is named with its line and column)')
    .argument('<file.csv>', 'CSV file with a header row, up to 1 MB')
    .addHelpText(
      'after',
      `
Columns: email, name, pool (required), territories, products, languages (lists separated by ;),
weight (1-100), capacity, timezone, working_days (e.g. mon-fri), working_hours (e.g. 09:00-18:00),
active (true/false). Reps are matched by email: importing again updates them.`,
    ),
).action(async (file: string, options) => {
  process.exitCode = await teamImportCommand(file, options, consoleOutput);
});

withJson(team.command('link').description("print the link to a rep's personal page (their open handoffs and answers) and when it expires").argument('<rep>', "the rep's email or id")).action(
  async (rep: string, options) => {
    process.exitCode = await teamLinkCommand(rep, options, consoleOutput);
  },
);

withJson(team.command('desk').description("the sales desk: each rep's load and SLA record, handoffs waiting for an owner, overdue first contacts")).action(async (options) => {
  process.exitCode = await teamDeskCommand(options, consoleOutput);
});

const apiKey = program.command('api-key').description('manage API keys (directly in the database: DATABASE_URL, else the running npm start)');
apiKey
  .command('create')
  .description('create an API key and print it once')
  .requiredOption('--name <name>', 'who or what uses the key')
  .addOption(new Option('--scopes <list>', `comma-separated scopes: ${API_SCOPES.join(', ')}`).argParser(scopeList).default(['read', 'write'], 'read,write'))
  .action(async (options) => {
    process.exitCode = await apiKeyCreateCommand(options, consoleOutput);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    console.error((error as Error).message);
    process.exitCode = EXIT.unavailable;
  }
}
