// Configuration from the environment, shared by the worker, the mailer, the API and `npm start`.
// Every setting has a development default, except the secrets in production.

export interface Config {
  /** PostgreSQL; unset → the embedded server `npm start` runs. */
  databaseUrl?: string;
  /** Temporal frontend, e.g. localhost:7233; unset → the dev server `npm start` runs. */
  temporalAddress?: string;
  temporalNamespace: string;
  taskQueue: string;
  /** SMTP relay, e.g. smtp://user:pass@smtp.example.com:587; unset → the local sink. */
  smtpUrl?: string;
  /** Public base URL of the API, used in tracking, unsubscribe and sales links. */
  publicUrl: string;
  /** Signs tracking, unsubscribe and sales links. */
  linkSecret: string;
  /** Domain of Message-IDs. */
  mailDomain: string;
  webhookUrl?: string;
  webhookSecret: string;
  apiPort: number;
  logLevel: string;
  production: boolean;
}

const DEVELOPMENT_SECRET = 'nurture-development-secret-change-me';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const secret = (name: string) => {
    const value = env[name];
    if (value) return value;
    if (production) throw new Error(`${name} must be set when NODE_ENV=production`);
    return DEVELOPMENT_SECRET;
  };
  const apiPort = Number(env.PORT ?? 3000);
  if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.NURTURE_TASK_QUEUE || 'nurture',
    smtpUrl: env.SMTP_URL || undefined,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${apiPort}`).replace(/\/+$/, ''),
    linkSecret: secret('LINK_SECRET'),
    mailDomain: env.MAIL_DOMAIN || 'nurture.localhost',
    webhookUrl: env.WEBHOOK_URL || undefined,
    webhookSecret: secret('WEBHOOK_SECRET'),
    apiPort,
    logLevel: env.LOG_LEVEL || 'info',
    production,
  };
}
