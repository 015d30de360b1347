// A campaign's life: draft → active ⇄ paused, and archived from any of them (final). What each
// marketer action does to it is declared here once, for the API and the CLI.
export type CampaignStatus = 'draft' | 'active' | 'paused' | 'archived';

export type CampaignAction = 'launch' | 'pause' | 'resume' | 'archive';

/** Statuses in which the campaign's marketing email does not go (sales mail still does). */
export const MARKETING_HELD_STATUSES: readonly CampaignStatus[] = ['paused', 'archived'];

export const CAMPAIGN_ACTIONS: Record<CampaignAction, { to: Exclude<CampaignStatus, 'draft'>; from: readonly CampaignStatus[] }> = {
  launch: { to: 'active', from: ['draft', 'paused'] },
  resume: { to: 'active', from: ['paused'] },
  pause: { to: 'paused', from: ['active'] },
  archive: { to: 'archived', from: ['draft', 'active', 'paused'] },
};
