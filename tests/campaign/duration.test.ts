// Durations as written in campaigns, business time, and the content hash of a compiled campaign.
import { describe, expect, it } from 'vitest';
import { campaignHash, formatDuration, parseDuration, validateCampaign } from '../../campaign';
import { parseSlaDuration } from '../../campaign/duration';
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

  it('reads SLA durations as business days and hours, or calendar time', () => {
    expect(parseSlaDuration('3 business days')).toEqual({ business: true, days: 3, hours: 0 });
    expect(parseSlaDuration('1 business day 4 business hours')).toEqual({ business: true, days: 1, hours: 4 });
    expect(parseSlaDuration('24 Business Hours')).toEqual({ business: true, days: 0, hours: 24 });
    expect(parseSlaDuration('24h')).toEqual({ business: false, ms: 24 * HOUR });
    for (const bad of ['3 days', 'business', '0h', 'tomorrow', 3, undefined]) expect(parseSlaDuration(bad), String(bad)).toBeUndefined();
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
