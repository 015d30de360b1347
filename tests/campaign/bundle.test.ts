// The campaign core is pure: the interpreter bundles into a Temporal workflow bundle (which
// refuses Node built-ins) and runs there, and no module of campaign/ imports anything with I/O.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { temporalForTests } from '../../devserver/temporal';
import { loadCampaign, lead } from './support';

const CAMPAIGN_DIR = fileURLToPath(new URL('../../campaign', import.meta.url));
const PURE_PACKAGES = ['luxon', 'jexl', 'yaml', 'date-holidays', 'simple-statistics', 'handlebars', 'fastest-levenshtein', 're2js'];

describe('campaign/ is pure', () => {
  it('imports only sibling modules and pure packages', () => {
    for (const file of readdirSync(CAMPAIGN_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
      const source = readFileSync(`${CAMPAIGN_DIR}/${file}`, 'utf8');
      for (const [, target] of source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        expect(target!.startsWith('./') || PURE_PACKAGES.includes(target!), `${file} imports ${target}`).toBe(true);
      }
      expect(source, `${file} reads the clock or randomness`).not.toMatch(/Date\.now\(|new Date\(\)|Math\.random|process\.|setTimeout/);
    }
  });

  it('bundles into a workflow and interprets a campaign inside the sandbox', async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./sandbox-workflow.ts', import.meta.url)),
      logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never,
    });
    expect(workflowBundle.code).toContain('interpretOnce');
    const env: TestWorkflowEnvironment = await temporalForTests('time-skipping');
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'sandbox', workflowBundle });
      const result = (await worker.runUntil(
        env.client.workflow.execute('interpretOnce', { taskQueue: 'sandbox', workflowId: 'sandbox-1', args: [loadCampaign('saas-whitepaper-nurture'), lead()] }),
      )) as { view: { score: number; stage: string } };
      expect(result.view).toMatchObject({ score: 35, stage: 'cold' });
    } finally {
      await env.teardown();
    }
  });
});
