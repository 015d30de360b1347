// The worker thread of the API's campaign work (started by api/threads.ts): reading a campaign
// (YAML or JSON text, or a JSON body) into a checked campaign, and running the simulator. One
// task at a time; each answer goes back as a message. Nothing here touches the database.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { campaignHash, parseCampaign, validateCampaign, type Campaign, type CampaignError } from '../campaign';
import { simulate, type SimulationResult } from '../campaign/simulator';
import { THREAD_READY, type ThreadReply, type ThreadRequest } from './threads';

/** Problems sent back at most (a broken 256 KB campaign can have thousands). */
export const MAX_REPORTED_PROBLEMS = 100;

/**
 * A text (YAML or JSON) or a parsed JSON body; the names of the email templates there are, and
 * of the event types and lead attributes the database has seen (for warnings); whether to hash the result.
 */
export type CompileInput = ({ text: string; value?: undefined } | { text?: undefined; value: unknown }) & {
  templates: string[];
  knownEventTypes?: string[];
  knownAttributes?: string[];
  hash: boolean;
};
/** The campaign (with its campaignHash when asked: 20 ms for the largest) and its warnings, or its first problems and their number. */
export type CompileOutput = { ok: true; campaign: Campaign; warnings: CampaignError[]; hash?: string } | { ok: false; errors: CampaignError[]; total: number };
export type SimulateInput = { definition: Campaign; leads: number; days: number; seed: number };
export type SimulateOutput = SimulationResult;

function compile({ text, value, templates, knownEventTypes, knownAttributes, hash }: CompileInput): CompileOutput {
  const names = new Set(templates);
  const checks = { templateExists: (name: string) => names.has(name), knownEventTypes, knownAttributes };
  const result = text !== undefined ? parseCampaign(text, checks) : validateCampaign(value, checks);
  if (result.ok) return { ok: true, campaign: result.campaign, warnings: result.warnings.slice(0, MAX_REPORTED_PROBLEMS), hash: hash ? campaignHash(result.campaign) : undefined };
  return { ok: false, errors: result.errors.slice(0, MAX_REPORTED_PROBLEMS), total: result.errors.length };
}

const tasks: Record<string, (input: never) => unknown> = {
  compile,
  simulate: ({ definition, leads, days, seed }: SimulateInput): SimulateOutput => simulate(definition, { leads, days, seed }),
};

// This thread's work waits for the API's event loop on a busy machine: on Linux, where a nice
// value is a thread's own, it runs at nice 10 (elsewhere nothing changes).
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) setPriority(tid, 10);
} catch {
  // not Linux: the scheduler shares the cores evenly
}

parentPort!.on('message', ({ id, task, input }: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    const run = tasks[task];
    if (!run) throw new Error(`no task ${task}`);
    reply = { id, ok: true, value: run(input as never) };
  } catch (error) {
    reply = { id, ok: false, message: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage(THREAD_READY);
