// Campaign versions on the real engine: a new version changes nothing for running enrolments
// until a marketer migrates one; the migrated lead's next email comes from the new version while
// the other lead stays on the old one, and the database records the enrolment's new version.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nextWindowOpening, type Campaign } from '../../campaign';
import type { EnrolmentView } from '../../workflows/nurture';
import { loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let v1: Campaign;

beforeAll(async () => {
  h = await startHarness();
  v1 = loadCampaign('saas-whitepaper-nurture');
  await h.launch(v1);
  await h.startAtCanonicalInstant(v1);
});

afterAll(async () => {
  await h?.close();
});

const STAYS = 'sora.kato@initech.example';
const MOVES = 'haru.mori@initech.example';
const REMINDER = { v1: 'Did you get a chance to read the guide?', v2: 'The guide, in five minutes of reading' };
const WEBINAR = { v1: 'Live: building a metrics culture in 45 minutes', v2: 'Live Q&A: a metrics culture for {{lead.company.name}}' };
const workflowOf = (leadId: string) => `nurture:${v1.id}:${leadId}`;
const state = async (leadId: string) => (await h.engine.enrolmentState(workflowOf(leadId))) as EnrolmentView;

/** Advances to `at`, or to the send window's next opening when it is closed then, plus a margin. */
async function advancePastSendTime(at: number) {
  await h.advanceTo(nextWindowOpening(v1.sendWindow, 'Asia/Tokyo', at) + 10 * 60_000);
}

describe('campaign versions: pinned per enrolment, migrated on request', () => {
  const leads: Record<string, string> = {};

  it('enrols two leads on version 1', async () => {
    for (const [email, first] of [[STAYS, 'Sora'], [MOVES, 'Haru']] as const) {
      // Engineers at a large company: fit 15 + the download 10 keeps them cold all along.
      leads[email] = await h.addLead(email, { first_name: first, last_name: 'Test', company: { name: 'Initech', employees: 500 }, role: 'engineer', region: 'kanto' });
      await h.event(leads[email]!, 'asset.downloaded', { asset: 'whitepaper' });
      await h.waitForMail((m) => m.to.includes(email));
    }
    await h.settle();
    for (const email of [STAYS, MOVES]) expect(await state(leads[email]!)).toMatchObject({ campaignVersion: 1, stage: 'cold', currentStep: 'tracks.cold[1]' });
  });

  it('a new version is not used by running enrolments: the reminder keeps the version 1 subject', async () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace(REMINDER.v1, REMINDER.v2).replace(WEBINAR.v1, WEBINAR.v2));
    expect(await h.launch(v2)).toBe(2);
    const wakes = await Promise.all([STAYS, MOVES].map(async (email) => (await state(leads[email]!)).nextWakeAt!));
    await advancePastSendTime(Math.max(...wakes)); // the click wait times out
    for (const email of [STAYS, MOVES]) {
      const reminder = await h.waitForMail((m) => m.to.includes(email) && h.mailTo(email).indexOf(m) === 1);
      expect(reminder.subject).toBe(REMINDER.v1);
    }
    await h.settle();
    const versions = await h.db.pool.query('SELECT DISTINCT campaign_version FROM enrolments');
    expect(versions.rows).toEqual([{ campaign_version: 1 }]);
  });

  it('migrates one enrolment: its next email has the version 2 subject, the other lead still gets version 1', async () => {
    const before = await state(leads[MOVES]!);
    expect(before.currentStep).toBe('tracks.cold[3]'); // the 7-day wait runs; v2 has an email at [3] too
    expect(await h.engine.migrateEnrolment(workflowOf(leads[MOVES]!))).toEqual({ campaignVersion: 2 });
    await vi.waitFor(async () => {
      const { rows } = await h.db.pool.query('SELECT lead_id, campaign_version FROM enrolments ORDER BY campaign_version');
      expect(rows).toEqual([
        { lead_id: leads[STAYS], campaign_version: 1 },
        { lead_id: leads[MOVES], campaign_version: 2 },
      ]);
    });
    // The row is written before the interpreter takes the switch: wait for the workflow's own view.
    await vi.waitFor(async () => {
      const after = await state(leads[MOVES]!);
      expect(after).toMatchObject({ campaignVersion: 2, currentStep: 'tracks.cold[3]', nextWakeAt: before.nextWakeAt });
      expect(after.history.at(-1)?.what).toBe('moved from campaign version 1 to 2');
    });

    const wakes = await Promise.all([STAYS, MOVES].map(async (email) => (await state(leads[email]!)).nextWakeAt!));
    await advancePastSendTime(Math.max(...wakes));
    const moved = await h.waitForMail((m) => m.to.includes(MOVES) && h.mailTo(MOVES).indexOf(m) === 2);
    const stayed = await h.waitForMail((m) => m.to.includes(STAYS) && h.mailTo(STAYS).indexOf(m) === 2);
    expect(moved.subject).toBe('Live Q&A: a metrics culture for Initech');
    expect(stayed.subject).toBe(WEBINAR.v1);
    await h.settle();
    const sends = await h.db.pool.query(
      `SELECT lead_id, campaign_version FROM email_sends WHERE step_path = 'tracks.cold[3]' ORDER BY campaign_version`,
    );
    expect(sends.rows).toEqual([
      { lead_id: leads[STAYS], campaign_version: 1 },
      { lead_id: leads[MOVES], campaign_version: 2 },
    ]);
  });

  it('refuses a migration to the version in use, to an unknown version and of an unknown enrolment', async () => {
    await expect(h.engine.migrateEnrolment(workflowOf(leads[MOVES]!), 2)).rejects.toMatchObject({ code: 'conflict' });
    await expect(h.engine.migrateEnrolment(workflowOf(leads[STAYS]!), 9)).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.engine.migrateEnrolment('nurture:no-such:lead', 2)).rejects.toMatchObject({ code: 'not_found' });
    expect((await state(leads[STAYS]!)).campaignVersion).toBe(1);
  });
});

// Last: the histories with a migration in them replay against the workflow code.
it('replays every history it produced', async () => {
  expect(await h.checkHistories('migration')).toEqual([]);
});
