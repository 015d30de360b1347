// Durations as written in campaigns, business time, and the content hash of a compiled campaign.
import { describe, expect, it } from 'vitest';
import { campaignHash, formatDuration, parseDuration, validateCampaign } from '../../campaign';
import { parseBusinessDuration } from '../../campaign/duration';
import { loadCampaign, DAY, HOUR } from './support';

describe('durations', () => {
  it('parses marketer units, combined and spaced', () => {
    expect(parseDuration('45m')).toBe(45 * 60_000);
    expect(parseDuration('48h')).toBe(48 * HOUR);
    expect(parseDuration('1d12h')).toBe(36 * HOUR);
    expect(parseDuration('2w')).toBe(14 * DAY);
    expect(parseDuration('1.5d')).toBe(36 * HOUR);
    expect(parseDuration(' 3D ')).toBe(3 * DAY);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['soon', '', '5', '5 days', 'd', '-3d', 5, null, undefined]) expect(parseDuration(bad), String(bad)).toBeUndefined();
  });

  it('business time counts working hours; a business day is one window long', () => {
    expect(parseBusinessDuration('3 business days', 9 * HOUR)).toBe(27 * HOUR);
    expect(parseBusinessDuration('1 business day', 8 * HOUR)).toBe(8 * HOUR);
    expect(parseBusinessDuration('24 business hours', 9 * HOUR)).toBe(24 * HOUR);
    expect(parseBusinessDuration('3 days', 9 * HOUR)).toBeUndefined();
  });

  it('formats back to the largest whole unit', () => {
    expect(formatDuration(14 * DAY)).toBe('2w');
    expect(formatDuration(36 * HOUR)).toBe('36h');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('campaignHash', () => {
  const demo = loadCampaign('saas-whitepaper-nurture');

  it('ignores key order and survives a JSON round trip', () => {
    const reordered = Object.fromEntries(Object.entries(demo).reverse());
    expect(campaignHash(reordered as typeof demo)).toBe(campaignHash(demo));
    expect(campaignHash(JSON.parse(JSON.stringify(demo)))).toBe(campaignHash(demo));
  });

  it('changes with any change of content', () => {
    const edited = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('- wait: 7d', '- wait: 8d'));
    expect(campaignHash(edited)).not.toBe(campaignHash(demo));
    expect(campaignHash({ ...demo, stages: { ...demo.stages, hot: 76 } })).not.toBe(campaignHash(demo));
  });

  it('a compiled campaign is plain JSON and validates again as it is stored', () => {
    expect(JSON.parse(JSON.stringify(demo))).toEqual(demo);
    expect(validateCampaign({ id: 'x' }).ok).toBe(false);
  });
});
