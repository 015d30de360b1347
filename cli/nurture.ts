#!/usr/bin/env -S npx tsx
// The `nurture` command line. Exit codes: see cli/exit-codes.ts.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { simulateCommand } from './commands/simulate';
import { validateCommand } from './commands/validate';
import { consoleOutput, EXIT } from './exit-codes';

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
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
