// The `nurture` command's exit codes: 0 success, 1 invalid input or failed check, 2 usage error,
// 3 a service (database, Temporal, API) could not be reached.
export const EXIT = { ok: 0, invalid: 1, usage: 2, unavailable: 3 } as const;

export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

export const consoleOutput: CommandOutput = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};
