// The secrets every process needs: always set (no development default), long, not the value
// this project once published, distinct; the previous link and webhook secrets of a rotation.
import { describe, expect, it } from 'vitest';
import { loadConfig, PUBLISHED_DEVELOPMENT_SECRET } from '../../runtime/config';

const SECRETS = {
  LINK_SECRET: 'link-secret-link-secret-link-secret-1',
  WEBHOOK_SECRET: 'webhook-secret-webhook-secret-webhook-2',
  DATA_SECRET: 'data-secret-data-secret-data-secret-3',
};

describe('secrets', () => {
  it('are required in development as in production, and the message says what to set', () => {
    for (const NODE_ENV of [undefined, 'development', 'production']) {
      expect(() => loadConfig({ NODE_ENV })).toThrow('LINK_SECRET, WEBHOOK_SECRET, DATA_SECRET must be set: random strings of at least 32 characters');
    }
    expect(() => loadConfig({ LINK_SECRET: SECRETS.LINK_SECRET })).toThrow(/^WEBHOOK_SECRET, DATA_SECRET must be set/);
  });

  it('refuses the published development secret, short secrets and secrets used twice, naming the variables', () => {
    expect(() => loadConfig({ ...SECRETS, WEBHOOK_SECRET: PUBLISHED_DEVELOPMENT_SECRET })).toThrow('WEBHOOK_SECRET is the published development secret');
    expect(() => loadConfig({ ...SECRETS, DATA_SECRET: 'x'.repeat(31) })).toThrow('DATA_SECRET must be at least 32 characters long (it has 31)');
    expect(() => loadConfig({ ...SECRETS, WEBHOOK_SECRET: SECRETS.LINK_SECRET })).toThrow('WEBHOOK_SECRET must differ from LINK_SECRET');
    expect(() => loadConfig({ ...SECRETS, LINK_SECRET_PREVIOUS: SECRETS.DATA_SECRET })).toThrow('LINK_SECRET_PREVIOUS must differ from DATA_SECRET');
    expect(() => loadConfig({ ...SECRETS, LINK_SECRET_PREVIOUS: 'short' })).toThrow('LINK_SECRET_PREVIOUS must be at least 32 characters');
  });

  it('carries the previous link and webhook secrets of a rotation', () => {
    const config = loadConfig({ ...SECRETS, LINK_SECRET_PREVIOUS: 'the-old-link-secret-of-32-characters!', WEBHOOK_SECRET_PREVIOUS: 'the-old-webhook-secret-of-32-characters' });
    expect(config).toMatchObject({
      linkSecret: SECRETS.LINK_SECRET,
      previousLinkSecrets: ['the-old-link-secret-of-32-characters!'],
      webhookSecret: SECRETS.WEBHOOK_SECRET,
      previousWebhookSecret: 'the-old-webhook-secret-of-32-characters',
      dataSecret: SECRETS.DATA_SECRET,
    });
    expect(loadConfig(SECRETS).previousLinkSecrets).toEqual([]);
  });
});
