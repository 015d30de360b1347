// `nurture leads import <file.csv>`: streams the file to POST /v1/leads/import (text/csv, header
// row, see api/lead-import.ts for the columns) and prints the report: counts, then every bad row
// with its line and reason. Good rows are kept even when others are bad, so re-importing the
// fixed file is safe (existing leads are updated, not duplicated).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { IMPORT_LIMIT, type ImportReport } from '../../api/lead-import';
import { apiRequest, CliError, resolveApiConfig, runCommand, unexpected, type ApiOptions } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The file as a web stream that calls `onRead` with the bytes handed to fetch so far. */
function countedStream(path: string, onRead: (bytes: number) => void): ReadableStream<Uint8Array> {
  const file = createReadStream(path);
  const chunks = file[Symbol.asyncIterator]();
  let bytes = 0;
  // Pulled one chunk at a time by fetch as it sends, so the count follows the upload.
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) {
        controller.close();
        return;
      }
      bytes += (value as Buffer).length;
      onRead(bytes);
      controller.enqueue(new Uint8Array(value as Buffer));
    },
    cancel() {
      file.destroy();
    },
  });
}

export async function leadsImportCommand(path: string, options: ApiOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch (error) {
      throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.invalid);
    }
    if (size > IMPORT_LIMIT) {
      throw new CliError(`${path} is ${mb(size)}; an import may be at most ${mb(IMPORT_LIMIT)}: split the file (keep the header row in each part)`, EXIT.invalid);
    }
    const config = await resolveApiConfig(options);

    // A bar only for a person watching a terminal; logs and pipes get one line at the end.
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: `uploading ${path} [{bar}] {percentage}% {sent} of {size}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.legacy,
        )
      : undefined;
    bar?.start(size, 0, { sent: mb(0), size: mb(size) });
    const started = performance.now();
    let response;
    try {
      response = await apiRequest(config, 'POST', '/leads/import', {
        body: countedStream(path, (bytes) => bar?.update(bytes, { sent: mb(bytes) })),
        contentType: 'text/csv',
      });
    } finally {
      bar?.stop();
    }
    out.error(`uploaded ${path} (${mb(size)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    if (response.status === 400 && response.error?.code === 'invalid_csv') {
      throw new CliError(`${path}: ${response.error.message}; nothing was imported`, EXIT.invalid);
    }
    if (response.status !== 200) throw unexpected(config, `importing ${path}`, response);
    const report = response.body as ImportReport;
    out.log(`imported ${report.imported} lead${report.imported === 1 ? '' : 's'} from ${path}: ${report.created} new, ${report.updated} updated`);
    if (report.rejected === 0) return EXIT.ok;
    out.log(`rejected ${report.rejected} row${report.rejected === 1 ? '' : 's'}:`);
    for (const error of report.errors) out.log(`  ${path}: line ${error.line}: ${error.reason}`);
    if (report.rejected > report.errors.length) {
      out.log(`  … and ${report.rejected - report.errors.length} more (the API lists the first ${report.errors.length})`);
    }
    out.error(`${report.rejected} row${report.rejected === 1 ? ' was' : 's were'} rejected; fix ${report.rejected === 1 ? 'it' : 'them'} and import again (good rows are kept and only updated by a second import)`);
    return EXIT.invalid;
  });
}
