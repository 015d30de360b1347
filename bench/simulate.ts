// Simulator speed: leads × days per second for the demo campaign, against a baseline measured
// in the same run — the same simulation with a daily wake-up per lead, as an engine that polls
// every lead once a day would do instead of sleeping until the next thing it needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCampaign } from '../campaign';
import { simulate } from '../campaign/simulator';

const DEMO = fileURLToPath(new URL('../campaigns/saas-whitepaper-nurture.yaml', import.meta.url));

export async function main(): Promise<void> {
  const parsed = parseCampaign(readFileSync(DEMO, 'utf8'));
  if (!parsed.ok) throw new Error('demo campaign invalid');
  const campaign = parsed.campaign;
  const days = 90;
  const time = (leads: number, pollDaily: boolean) => {
    const started = performance.now();
    const result = simulate(campaign, { leads, days, seed: 7, pollDaily });
    return { seconds: (performance.now() - started) / 1000, steps: result.steps_run };
  };
  time(2000, false); // warm-up: JIT and caches
  const full = time(100_000, false);
  const sample = 20_000;
  const eventDriven = time(sample, false);
  const polling = time(sample, true);
  const rate = (leads: number, seconds: number) => Math.round((leads * days) / seconds);
  console.log('simulator (campaigns/saas-whitepaper-nurture.yaml, 90 days, one core)');
  console.log(`  100,000 leads × 90 days: ${full.seconds.toFixed(2)} s — ${rate(100_000, full.seconds).toLocaleString('en')} lead-days/s, ${full.steps.toLocaleString('en')} interpreter steps`);
  console.log(`  ${sample.toLocaleString('en')} leads, event-driven wake-ups: ${eventDriven.seconds.toFixed(2)} s (${eventDriven.steps.toLocaleString('en')} steps)`);
  console.log(`  ${sample.toLocaleString('en')} leads, baseline polling daily:  ${polling.seconds.toFixed(2)} s (${polling.steps.toLocaleString('en')} steps)`);
  console.log(`  ratio: event-driven is ${(polling.seconds / eventDriven.seconds).toFixed(1)}× faster than daily polling`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
