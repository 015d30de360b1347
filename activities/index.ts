// Every side effect a nurture workflow can ask for, bound to the process's resources.
import type { Pool } from '../db/pool';
import type { Links } from '../mail/links';
import type { TemplateLibrary } from '../mail/renderer';
import { createEnrolmentActivities } from './enrolments';
import { createHandoffActivities } from './handoff';
import { createSendActivity } from './send';
import { createWebhookActivity, type WebhookSettings } from './webhook';

export interface ActivityDependencies {
  pool: Pool;
  templates: TemplateLibrary;
  links: Links;
  mailDomain: string;
  webhook: WebhookSettings;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    sendEmail: createSendActivity(deps),
    postWebhook: createWebhookActivity(deps.webhook),
    ...createEnrolmentActivities(deps),
    ...createHandoffActivities(deps),
  };
}

export type NurtureActivities = ReturnType<typeof createActivities>;
