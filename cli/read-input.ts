// A command's input file as text, or undefined after telling the user why it cannot be read.
import { readFile } from 'node:fs/promises';
import type { CommandOutput } from './exit-codes';

export async function readInputFile(file: string, out: CommandOutput): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    out.error(`cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
}
