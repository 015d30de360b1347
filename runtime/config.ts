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
  /** Hears of handoffs nobody can take when their sales pool has no manager (e.g. the pool does not exist). */
  operatorEmail?: string;
  apiPort: number;
  /** Interface the API listens on; 127.0.0.1 unless HOST says otherwise (0.0.0.0 in a container). */
  apiHost: string;
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
  const apiPort = port(env, 'PORT', 3000);
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
    operatorEmail: env.OPERATOR_EMAIL || undefined,
    apiPort,
    apiHost: env.HOST || '127.0.0.1',
    logLevel: env.LOG_LEVEL || 'info',
    production,
  };
}

/** A port number from the environment, or the default. */
export function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number, got "${env[name]}"`);
  return value;
}
