// The demo `npm start` loads: the reference campaign of seed 004 (whitepaper → demo), the sales
// team it hands leads to, and a few leads who downloaded the whitepaper. Leads, consent and
// events go through the HTTP API as any client's would; every id is fixed, so loading it again
// on the next start changes nothing.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { parseCampaign, formatCampaignError } from '../campaign';
import { getCampaign, saveCampaignVersion, setCampaignStatus } from '../db/campaigns';
import type { Pool } from '../db/pool';
import { upsertSalesPool, upsertSalesRep } from '../db/sales-team';

export const DEMO_CAMPAIGN_FILE = new URL('../campaigns/saas-whitepaper-nurture.yaml', import.meta.url);

export const DEMO_SALES_TEAM = {
  // The team works weekdays 09:00–18:00 in Tokyo and keeps Japan's public holidays: SLAs count those hours.
  pool: { name: 'sales-japan', managerName: 'Mariko Manager', managerEmail: 'manager@acme.example', timezone: 'Asia/Tokyo', workDays: [1, 2, 3, 4, 5], workStart: 540, workEnd: 1080, holidays: 'JP' },
  reps: [
    { email: 'kenji@acme.example', name: 'Kenji Sato', pool: 'sales-japan', territories: ['kanto'] },
    { email: 'yui@acme.example', name: 'Yui Tanaka', pool: 'sales-japan', territories: ['kansai'] },
    { email: 'ren@acme.example', name: 'Ren Ito', pool: 'sales-japan', territories: ['kanto'] },
  ],
};

/** The demo's sales team; round-robin turns follow the order the reps are created in. */
export async function loadDemoSalesTeam(pool: Pool): Promise<void> {
  await upsertSalesPool(pool, DEMO_SALES_TEAM.pool);
  for (const rep of DEMO_SALES_TEAM.reps) await upsertSalesRep(pool, rep);
}

/** Leads around the world, so that some are inside the weekday 09:00–18:00 send window at any hour. */
export const DEMO_LEADS = [
  { email: 'aiko.suzuki@globex.example', timezone: 'Asia/Tokyo', attributes: { first_name: 'Aiko', last_name: 'Suzuki', company: { name: 'Globex', employees: 250 }, role: 'manager', region: 'kanto' } },
  { email: 'hiro.tanaka@initech.example', timezone: 'Asia/Tokyo', attributes: { first_name: 'Hiro', last_name: 'Tanaka', company: { name: 'Initech', employees: 40 }, role: 'engineer', region: 'kansai' } },
  { email: 'emma.clark@umbrella.example', timezone: 'Europe/London', attributes: { first_name: 'Emma', last_name: 'Clark', company: { name: 'Umbrella', employees: 1200 }, role: 'director', region: 'kanto' } },
  { email: 'lucas.moreau@hooli.example', timezone: 'America/New_York', attributes: { first_name: 'Lucas', last_name: 'Moreau', company: { name: 'Hooli', employees: 600 }, role: 'vp', region: 'kansai' } },
];

async function call(app: FastifyInstance, apiKey: string, method: 'PUT' | 'POST', url: string, payload: object): Promise<any> {
  const response = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${apiKey}` } });
  if (response.statusCode >= 300) throw new Error(`demo: ${method} ${url} answered ${response.statusCode}: ${response.body}`);
  return response.json();
}

/** Loads the demo; returns the campaign id. */
export async function loadDemo(options: { pool: Pool; app: FastifyInstance; apiKey: string }): Promise<string> {
  const { pool, app, apiKey } = options;
  const parsed = parseCampaign(await readFile(DEMO_CAMPAIGN_FILE, 'utf8'));
  if (!parsed.ok) throw new Error(`demo campaign is invalid:\n${parsed.errors.map(formatCampaignError).join('\n')}`);
  const campaign = parsed.campaign;

  await loadDemoSalesTeam(pool);

  // A first start launches it; later starts leave a campaign the marketer paused alone.
  const { created } = await saveCampaignVersion(pool, campaign);
  if (created && (await getCampaign(pool, campaign.id))?.status === 'draft') await setCampaignStatus(pool, campaign.id, 'active');

  for (const lead of DEMO_LEADS) {
    const { lead: stored } = await call(app, apiKey, 'PUT', '/v1/leads', lead);
    const consent = await app.inject({ method: 'GET', url: `/v1/leads/${stored.id}/consent`, headers: { authorization: `Bearer ${apiKey}` } });
    // Recorded once: a demo lead who has since withdrawn stays withdrawn.
    if ((consent.json() as { history: unknown[] }).history.length === 0) {
      await call(app, apiKey, 'POST', `/v1/leads/${stored.id}/consent`, { purpose: 'marketing_email', granted: true, source: 'form:whitepaper (demo)' });
    }
    await call(app, apiKey, 'POST', '/v1/events', {
      id: `demo:whitepaper:${lead.email}`,
      lead: { id: stored.id },
      type: 'asset.downloaded',
      data: { asset: 'whitepaper' },
    });
  }
  return campaign.id;
}
