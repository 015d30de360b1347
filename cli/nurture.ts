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
import { validateCommand } from './commands/validate';
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
  .description('check a campaign file (YAML or JSON) and list every problem with its line')
  .argument('<file>', 'campaign file')
  .action(async (file: string) => {
    process.exitCode = await validateCommand(file, consoleOutput);
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
