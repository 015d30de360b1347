// Golden histories: workflow histories recorded from the end-to-end scenarios (binary protobuf,
// tests/histories/*.history.pb) replayed against the current workflow code. A change to the
// nurture workflow that would break enrolments already running fails here; guard such changes
// with patched() and record new histories (NURTURE_RECORD_HISTORIES=1 npm test -- tests/e2e).
import { readdirSync, readFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { expect, it } from 'vitest';
import { HISTORIES_DIR, workflowBundle } from '../e2e/harness';
import { replayFailures } from '../support/history';

it('replays every golden history cleanly', async () => {
  const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.history.pb'));
  expect(files.length).toBeGreaterThanOrEqual(5);
  const histories = files.map((file) => ({
    workflowId: decodeURIComponent(file.split('--')[1]!.replace(/\.history\.pb$/, '')),
    history: temporal.api.history.v1.History.decode(readFileSync(`${HISTORIES_DIR}/${file}`)),
  }));
  expect(await replayFailures({ workflowBundle: await workflowBundle() }, histories)).toEqual([]);
});
