// Rendering speed: personalised `welcome` emails per second from the compiled cache (one run of
// two precompiled Handlebars templates per email), against a baseline measured in the same run —
// a renderer without the cache, which compiles the template (MJML, link rewriting, html-to-text,
// Handlebars) for every email. The baseline runs on a smaller sample; per-email costs are compared.
import { fileURLToPath } from 'node:url';
import { TemplateLibrary, type RenderRequest } from '../mail/renderer';

const CACHED_EMAILS = 10_000;
const UNCACHED_EMAILS = 200;

function request(i: number): RenderRequest {
  return {
    template: 'welcome',
    subject: '{{lead.first_name}}, your guide is ready',
    data: {
      lead: { first_name: `Lead${i}`, last_name: `Number ${i}`, email: `lead${i}@company${i % 977}.example`, company: { name: `Company ${i % 977} K.K.` } },
      campaign: { id: 'saas-whitepaper-nurture', version: 1, name: 'Whitepaper → demo' },
      sender: { name: 'Acme Marketing', email: 'marketing@acme.example' },
    },
    links: {
      click: (url, index) => `https://t.acme.example/c/${i}/${index}?u=${encodeURIComponent(url)}`,
      openPixel: `https://t.acme.example/o/${i}.gif`,
      unsubscribe: `https://t.acme.example/u/${i}`,
    },
  };
}

export async function main(): Promise<void> {
  const library = await TemplateLibrary.load();
  for (let i = 0; i < 1_000; i++) library.render(request(i)); // warm-up: JIT
  const compilesBefore = library.compileCount();
  let bytes = 0;
  const cachedStart = performance.now();
  for (let i = 0; i < CACHED_EMAILS; i++) bytes += library.render(request(i)).html.length;
  const cachedSeconds = (performance.now() - cachedStart) / 1000;
  if (library.compileCount() !== compilesBefore) throw new Error('the cached run compiled MJML');

  await uncachedRender(0); // warm-up
  const uncachedStart = performance.now();
  for (let i = 0; i < UNCACHED_EMAILS; i++) bytes += (await uncachedRender(i)).length;
  const uncachedSeconds = (performance.now() - uncachedStart) / 1000;

  const cachedRate = CACHED_EMAILS / cachedSeconds;
  const uncachedRate = UNCACHED_EMAILS / uncachedSeconds;
  console.log('render (templates/welcome.mjml, distinct lead data per email, one core)');
  console.log(`  cached:   ${CACHED_EMAILS.toLocaleString('en')} emails in ${cachedSeconds.toFixed(2)} s — ${Math.round(cachedRate).toLocaleString('en')} emails/s (${(1e6 / cachedRate).toFixed(1)} µs each)`);
  console.log(`  baseline, MJML compiled per email: ${UNCACHED_EMAILS} emails in ${uncachedSeconds.toFixed(2)} s — ${Math.round(uncachedRate).toLocaleString('en')} emails/s (${(1e3 / uncachedRate).toFixed(2)} ms each)`);
  console.log(`  ratio: cached is ${(cachedRate / uncachedRate).toFixed(0)}× faster per email (targets: ≥ 50×, ≥ 10,000 emails/s); ${(bytes / 1e6).toFixed(0)} MB of HTML rendered`);
}

// A renderer without the cache: a fresh library per email compiles the template before rendering it.
async function uncachedRender(i: number): Promise<string> {
  const library = new TemplateLibrary();
  await library.warm(['welcome']);
  return library.render(request(i)).html;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
