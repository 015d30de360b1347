// The settings end-to-end tests run the engine with.
export const TEST_CONFIG = {
  temporalNamespace: 'default',
  publicUrl: 'http://nurture.test',
  linkSecret: 'test-link-secret-of-at-least-32-characters',
  mailDomain: 'nurture.test',
  webhookUrl: undefined as string | undefined,
  webhookSecret: 'test-webhook-secret-of-at-least-32-characters',
  dataSecret: 'test-data-secret-of-at-least-32-characters',
};
