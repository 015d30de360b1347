// Simulation profiles: a JSON file overrides the defaults section by section, and a bad one says
// what and where — through `nurture simulate --profile` too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCampaignError } from '../../campaign';
import { DEFAULT_PROFILE, parseProfile } from '../../campaign/profile';
import { simulateCommand } from '../../cli/commands/simulate';

describe('parseProfile', () => {
  it('an empty profile is the default one', () => {
    expect(parseProfile({})).toEqual({ ok: true, profile: DEFAULT_PROFILE });
  });

  it('overrides only what it gives', () => {
    const result = parseProfile({ consentRate: 0.5, email: { openRate: 0.6 }, attributes: { role: { values: ['cto'], weights: [1] } } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.profile.consentRate).toBe(0.5);
    expect(result.profile.email).toEqual({ ...DEFAULT_PROFILE.email, openRate: 0.6 });
    expect(result.profile.attributes).toEqual({ ...DEFAULT_PROFILE.attributes, role: { values: ['cto'], weights: [1] } });
    expect(result.profile.daily).toEqual(DEFAULT_PROFILE.daily);
  });

  it('names every problem with its path', () => {
    const result = parseProfile({
      consentRate: 1.5,
      email: { openRate: 'high', variantLift: { B: -1 } },
      attributes: { timezone: { values: ['Asia/Tokyo', 'Mars/Base'], weights: [1, 1] }, employees: { values: [1, 2], weights: [1] } },
      daily: [{ type: 'page.viewed', chance: { warm: 0.7 } }, { type: 'asset.downloaded', chance: { warm: 0.6 } }],
      sales: { outcomes: { values: ['maybe'], weights: [1] } },
      extra: true,
    });
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map(formatCampaignError);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^consentRate: expected a number from 0 to 1, got 1.5$/),
        expect.stringMatching(/^email\.openRate: expected a number/),
        expect.stringMatching(/^email\.variantLift: /),
        expect.stringMatching(/^attributes\.timezone\.values\[1\]: expected an IANA time zone/),
        expect.stringMatching(/^attributes\.employees: values and weights must be non-empty lists of the same length$/),
        expect.stringMatching(/^daily: the warm chances add up to more than 1/),
        expect.stringMatching(/^sales\.outcomes\.values\[0\]: expected accepted, not_ready, disqualified/),
        expect.stringMatching(/^\(profile\)\.extra: unknown field/),
      ]),
    );
    expect(messages).toHaveLength(8);
  });

  it('refuses weights that are all zero', () => {
    const result = parseProfile({ attributes: { region: { values: ['kanto'], weights: [0] } } });
    expect(!result.ok && result.errors.map(formatCampaignError)).toEqual(['attributes.region.weights: at least one weight must be above 0']);
  });
});

describe('nurture simulate --profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nurture-profile-'));
  const output = () => {
    const lines = { out: [] as string[], err: [] as string[] };
    return { lines, sink: { log: (l: string) => lines.out.push(l), error: (l: string) => lines.err.push(l) } };
  };
  const options = (profile: string) => ({ leads: 200, days: 20, seed: 1, profile });

  it('uses the profile: with no consent, no email is sent', async () => {
    const file = join(dir, 'no-consent.json');
    writeFileSync(file, JSON.stringify({ consentRate: 0 }));
    const { lines, sink } = output();
    expect(await simulateCommand('campaigns/saas-whitepaper-nurture.yaml', options(file), sink)).toBe(0);
    expect(lines.out.join('\n')).toMatch(/Funnel\n\s+enrolled\s+200/);
    // Not one email sent (the step is listed with 0), and the step says why.
    expect(lines.out.some((l) => /^\s+tracks\.cold\[0\]\s+0\s/.test(l))).toBe(true);
    expect(lines.out.some((l) => /^\s+tracks\.cold\[0\]\s+[1-9]/.test(l))).toBe(false);
    expect(lines.out).toContain(`  ${'tracks.cold[0]'.padEnd(32)} no consent 200`);
  });

  it('--show-profile prints the profile in use, which reads back as the same profile', async () => {
    const file = join(dir, 'half.json');
    writeFileSync(file, JSON.stringify({ consentRate: 0.5 }));
    const { lines, sink } = output();
    expect(await simulateCommand('campaigns/saas-whitepaper-nurture.yaml', { ...options(file), showProfile: true }, sink)).toBe(0);
    const shown = JSON.parse(lines.out.join('\n'));
    expect(shown.consentRate).toBe(0.5);
    expect(parseProfile(shown)).toEqual({ ok: true, profile: { ...DEFAULT_PROFILE, consentRate: 0.5 } });
  });

  it('a bad profile exits 1 with its problems', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ email: { clickRate: 2 } }));
    const { lines, sink } = output();
    expect(await simulateCommand('campaigns/saas-whitepaper-nurture.yaml', options(file), sink)).toBe(1);
    expect(lines.err).toEqual([`${file}: email.clickRate: expected a number from 0 to 1, got 2`]);
  });

  it('a profile that is not JSON exits 1', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ consentRate: ');
    const { lines, sink } = output();
    expect(await simulateCommand('campaigns/saas-whitepaper-nurture.yaml', options(file), sink)).toBe(1);
    expect(lines.err[0]).toMatch(/^cannot use profile .*broken\.json: /);
  });
});
