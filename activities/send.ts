// The send activities turn a workflow's request for an email into one row of the outbox, which
// the mailer delivers. A worker killed at any point cannot send twice: the row's idempotency key
// is unique, and a retried attempt finds the row its predecessor wrote.
//
// queueEmail stores the row and returns at once; the mailer signals the outcome to the workflow
// later, so an email waiting in a backlog or for SMTP never holds up the lead's decisions and
// costs one attempt (bench/send-backlog.ts measures both). A signal was chosen over an
// asynchronous activity with a long start-to-close: that activity would need a heartbeat from the
// mailer for every queued row, all the time a backlog lasts, to notice a worker that died before
// storing its email; here that worker's attempt simply times out in seconds and the next one finds
// or writes the row. sendEmail is the earlier form, kept for enrolments whose history awaits it:
// it completes asynchronously, when the mailer completes it with the SMTP outcome.
import { CompleteAsyncError, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MARKETING_HELD_STATUSES, type EmailKind, type SendOutcome } from '../campaign';
import { marketingIneligibility, type FrequencyCap } from '../db/eligibility';
import { insertSend, isFinal, lockSend, notifyOutbox, reattachSend, type NewSend } from '../db/email-sends';
import { campaignStatus } from '../db/campaigns';
import { getLead, type Lead } from '../db/leads';
import { inTransaction, type Db, type Pool } from '../db/pool';
import { messageIdFor, messageKey } from '../mail/identity';
import type { Links } from '../mail/links';
import type { TemplateLibrary } from '../mail/renderer';
import type { MailAddress } from '../mail/transport';
import { chooseVariant, type AbRequest } from './ab-winner';

export interface SendEmailRequest {
  /** Unique per email ever: the workflow id and the interpreter's send key. */
  idempotencyKey: string;
  kind: EmailKind;
  /** The workflow's clock: the time the email was asked for. */
  requestedAt: number;
  from: { name?: string; email: string };
  template: string;
  subject: string;
  campaign: { id: string; version: number; name: string };
  enrolmentId?: number;
  leadId: string;
  stepPath?: string;
  ab?: AbRequest;
  /** Marketing email names the consent purpose it needs; sales mail has none. */
  consentPurpose?: string;
  frequencyCap?: FrequencyCap;
  /** Sales mail goes to a rep or manager instead of the lead. */
  to?: { email: string; name?: string };
  /** Extra template data (the handoff notice's content). */
  data?: Record<string, unknown>;
  /** Sales mail about a handoff carries its signed answer links and its deadline; to a rep, their personal page. */
  handoff?: { id: string; deadline: number; timezone?: string; rep?: string };
}

export interface SendEmailResult {
  status: SendOutcome;
  messageId: string;
  variant?: string;
}

export interface QueueEmailRequest extends SendEmailRequest {
  /** Marketing email: the workflow told the outcome, and the send key it is told under. */
  report?: { workflowId: string; sendKey: string };
}

/** 'queued': the outcome follows by signal (marketing) or is not awaited (sales mail). */
export type QueueEmailResult = { status: 'queued'; variant?: string } | { status: SendOutcome; variant?: string };

export interface SendDependencies {
  pool: Pool;
  templates: TemplateLibrary;
  links: Links;
  /** Domain of Message-IDs. */
  mailDomain: string;
}

export function createSendActivities(deps: SendDependencies) {
  return {
    async queueEmail(request: QueueEmailRequest): Promise<QueueEmailResult> {
      const messageId = messageIdFor(request.idempotencyKey, deps.mailDomain);
      return inTransaction(deps.pool, async (tx) => {
        const existing = await lockSend(tx, request.idempotencyKey);
        if (existing) return { status: isFinal(existing.status) ? existing.status : 'queued', variant: existing.variant ?? undefined };
        // A lead deleted meanwhile is told as 'suppressed' (the enrolment exits), never as a failed activity.
        const lead = await getLead(tx, request.leadId);
        if (!lead) return { status: 'suppressed' };
        const queued = await queueNew(tx, request, lead, messageId, { reportTo: request.report?.workflowId, reportKey: request.report?.sendKey }, deps);
        return queued ?? { status: 'queued' };
      });
    },

    async sendEmail(request: SendEmailRequest): Promise<SendEmailResult> {
      const taskToken = Context.current().info.taskToken;
      const messageId = messageIdFor(request.idempotencyKey, deps.mailDomain);
      const decided = await inTransaction(deps.pool, async (tx) => {
        const existing = await lockSend(tx, request.idempotencyKey);
        if (existing && isFinal(existing.status)) return { status: existing.status, messageId, variant: existing.variant ?? undefined };
        if (existing) {
          // An earlier attempt queued it (or the mailer deferred it): hand the row this attempt's token.
          await reattachSend(tx, request.idempotencyKey, Buffer.from(taskToken));
          await notifyOutbox(tx);
          return undefined;
        }
        const lead = await getLead(tx, request.leadId);
        if (!lead) throw ApplicationFailure.nonRetryable(`lead ${request.leadId} does not exist`, 'UnknownLead');
        return queueNew(tx, request, lead, messageId, { taskToken: Buffer.from(taskToken) }, deps);
      });
      if (decided) return decided;
      throw new CompleteAsyncError();
    },
  };
}

/**
 * Queues sales mail (notice, reminder, escalation, alert) inside the caller's transaction: the
 * sales desk records its decision and the email together. Once per idempotency key.
 */
export async function queueSalesMail(tx: Db, request: SendEmailRequest, deps: SendDependencies): Promise<void> {
  if (await lockSend(tx, request.idempotencyKey)) return;
  const lead = await getLead(tx, request.leadId);
  if (!lead) return;
  await queueNew(tx, request, lead, messageIdFor(request.idempotencyKey, deps.mailDomain), {}, deps);
}

/** Stores the email: queued for the mailer, or final when it must not go (returned then). */
async function queueNew(
  tx: Db,
  request: SendEmailRequest,
  lead: Lead,
  messageId: string,
  listener: Pick<NewSend, 'taskToken' | 'reportTo' | 'reportKey'>,
  deps: SendDependencies,
): Promise<SendEmailResult | undefined> {
  const requestedAt = new Date(request.requestedAt);

  const variant = request.ab ? await chooseVariant(tx, request.campaign, request.ab) : undefined;
  const template = variant?.template ?? request.template;
  const subject = variant?.subject ?? request.subject;
  const base: Omit<NewSend, 'status' | 'toAddress'> = {
    idempotencyKey: request.idempotencyKey,
    messageId,
    messageKey: messageKey(request.idempotencyKey),
    kind: request.kind,
    enrolmentId: request.enrolmentId ?? null,
    campaignId: request.campaign.id,
    campaignVersion: request.campaign.version,
    leadId: request.leadId,
    stepPath: request.stepPath ?? null,
    template,
    abTest: request.ab?.testKey ?? null,
    variant: variant?.key ?? null,
    consentPurpose: request.consentPurpose ?? null,
    subject,
    createdAt: requestedAt,
    ...listener,
  };

  if (request.consentPurpose) {
    // Marketing email of a campaign paused or archived meanwhile does not go (the mailer checks again).
    const status = (await campaignStatus(tx, request.campaign.id))?.status;
    if (status && MARKETING_HELD_STATUSES.includes(status)) {
      await insertSend(tx, { ...base, status: 'cancelled', toAddress: lead.email });
      return { status: 'cancelled', messageId, variant: variant?.key };
    }
    const refusal = await marketingIneligibility(
      tx,
      request.leadId,
      request.consentPurpose,
      request.frequencyCap,
      requestedAt,
      request.idempotencyKey,
    );
    if (refusal) {
      await insertSend(tx, { ...base, status: refusal, toAddress: lead.email });
      return { status: refusal, messageId, variant: variant?.key };
    }
  }

  const to = request.to ?? (lead.email ? { email: lead.email, name: displayName(lead.attributes) } : undefined);
  if (!to) {
    await insertSend(tx, { ...base, status: 'suppressed', toAddress: null });
    return { status: 'suppressed', messageId, variant: variant?.key };
  }

  const key = base.messageKey;
  const marketing = Boolean(request.consentPurpose);
  const unsubscribe = marketing ? deps.links.unsubscribe(key, request.leadId) : undefined;
  const rendered = deps.templates.render({
    template,
    subject,
    data: {
      ...request.data,
      ...(request.handoff && handoffData(request.handoff, request.requestedAt, deps.links)),
      lead: { ...lead.attributes, email: lead.email, timezone: lead.timezone },
      campaign: request.campaign,
      sender: request.from,
    },
    links: {
      // Only the lead's own clicks count as its engagement: mail to a rep or a colleague is not tracked.
      click: (url, index) => (request.to ? url : deps.links.click(key, url, index)),
      openPixel: marketing ? deps.links.openPixel(key) : undefined,
      unsubscribe,
      honeypot: marketing ? deps.links.honeypot(key) : undefined,
    },
  });
  const message = {
    // Address objects: nodemailer quotes or encodes the names (no hand-made "…" to break).
    from: mailAddress(request.from),
    to: mailAddress(to),
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: rendered.headers,
    messageId,
  };
  // The row keeps the subject as the lead saw it (personalised), for timelines and reports.
  await insertSend(tx, { ...base, subject: rendered.subject, status: 'queued', toAddress: to.email, message });
  await notifyOutbox(tx);
  return undefined;
}

function handoffData(handoff: NonNullable<SendEmailRequest['handoff']>, now: number, links: Links) {
  const deadline = new Intl.DateTimeFormat('en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: handoff.timezone ?? 'UTC',
    timeZoneName: 'short',
  }).format(new Date(handoff.deadline));
  return {
    deadline: `${deadline} (${handoff.timezone ?? 'UTC'})`,
    ...(handoff.rep && { rep_page: links.repPage(handoff.rep, now).url }),
    actions: {
      accept: links.handoffAction(handoff.id, 'accept', now),
      not_ready: links.handoffAction(handoff.id, 'not_ready', now),
      disqualify: links.handoffAction(handoff.id, 'disqualify', now),
    },
  };
}

function mailAddress(mailbox: { name?: string; email: string }): MailAddress {
  return mailbox.name ? { name: mailbox.name, address: mailbox.email } : { address: mailbox.email };
}

function displayName(attributes: Record<string, unknown>): string | undefined {
  const name = [attributes.first_name, attributes.last_name].filter((part) => typeof part === 'string' && part).join(' ');
  return name || undefined;
}
