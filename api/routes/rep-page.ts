// A sales rep's personal page, reached by the signed, expiring link in every notice (or one a
// manager asks the API for): the rep's open handoffs with the lead's context — why now, the score
// breakdown, recent activity, the deadline — and a form per handoff for the answer. No account and
// no API key: the link is the credential. GET only shows (mail scanners prefetch links); the
// answer is a POST, checked against the rep's ownership and the answers the handoff takes now.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { answerRefusal, SALES_OUTCOMES, type SalesOutcome } from '../../campaign';
import { getHandoff, openHandoffsOfRep } from '../../db/handoffs';
import { getSalesRep, workingHoursOf, type SalesRep } from '../../db/sales-team';
import { verifyLink } from '../../mail/link-tokens';
import { verifyingSecrets } from '../../mail/links';
import { escapeHtml } from '../../runtime/html';
import type { ApiContext } from '../context';
import { EngineRefusal } from '../engine';
import { htmlPageSchema, sendPage } from '../pages';

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } } };
const LABELS: Record<SalesOutcome, string> = { accepted: 'Accept (I have made contact)', not_ready: 'Not ready yet', disqualified: 'Disqualify', converted: 'Converted' };
/** Answers that need the rep's reason. */
const NEEDS_REASON: readonly SalesOutcome[] = ['not_ready', 'disqualified'];

type Answer = { handoff: string; outcome: SalesOutcome; reason?: string; recycle_on?: string };

export const repPageRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, engine, links }) => {
  await app.register(formbody, { bodyLimit: 8192 });

  async function repOf(token: string): Promise<SalesRep | undefined> {
    const claims = verifyLink(token, verifyingSecrets(links));
    return claims?.kind === 'rep' ? getSalesRep(pool, claims.rep) : undefined;
  }

  const unknown = (reply: FastifyReply) =>
    sendPage(reply, 404, 'Link not recognised', '<p>This link is not valid or has expired. The newest notice email carries a fresh one, or ask your sales manager.</p>');

  async function page(reply: FastifyReply, token: string, rep: SalesRep, status = 200, message = '') {
    const [handoffs, hours] = await Promise.all([openHandoffsOfRep(pool, rep.id), workingHoursOf(pool, rep.pool, rep.id)]);
    // Deadlines in the rep's own time zone (their pool's when they have none).
    const zone = hours?.timezone ?? 'UTC';
    const local = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: zone, timeZoneName: 'short' });
    const now = Date.now();
    const cards = handoffs.map((h) => {
      const a = h.leadAttributes as Record<string, any>;
      const name = [a.first_name, a.last_name].filter(Boolean).join(' ') || h.leadEmail || 'a lead';
      const company = a.company?.name ?? a.company ?? '';
      const due = new Date(h.firstContactDue);
      const overdue = h.status === 'pending' && due.getTime() < now;
      const why = (h.reasons as string[]).map((reason) => `<li>${escapeHtml(reason)}</li>`).join('');
      const breakdown = (h.breakdown as { label: string; points: number }[])
        .map((item) => `<tr><td>${escapeHtml(item.label)}</td><td style="text-align:right">${escapeHtml(String(Math.round(item.points)))}</td></tr>`)
        .join('');
      const activity = (h.recentActivity as { at: string; type: string; data?: Record<string, unknown> }[])
        .map((event) => `<li>${escapeHtml(local.format(new Date(event.at)))} — ${escapeHtml(event.type)}${event.data?.page ? ` (${escapeHtml(String(event.data.page))})` : ''}</li>`)
        .join('') || '<li>No recent activity recorded.</li>';
      const choices = SALES_OUTCOMES.filter((outcome) => !answerRefusal(h.id, h.status, outcome))
        .map((outcome) => `<option value="${outcome}">${escapeHtml(LABELS[outcome])}</option>`)
        .join('');
      return `<section class="handoff" data-handoff="${escapeHtml(h.id)}">
<h2>${escapeHtml(name)}${company ? ` — ${escapeHtml(String(company))}` : ''}</h2>
<p>${escapeHtml(String(a.role ?? ''))} <a href="mailto:${escapeHtml(h.leadEmail ?? '')}">${escapeHtml(h.leadEmail ?? '')}</a></p>
<p><strong>Status:</strong> ${escapeHtml(h.status.replace('_', ' '))} · <strong>Score</strong> ${escapeHtml(String(Math.round(h.score)))} ·
<strong${overdue ? ' style="color:#b91c1c"' : ''}>First contact due ${escapeHtml(local.format(due))}${overdue ? ' (overdue)' : ''}</strong></p>
<h3>Why now</h3><ul>${why}</ul>
<h3>Score breakdown</h3><table>${breakdown}</table>
<h3>Recent activity</h3><ul>${activity}</ul>
<form method="post" action="/r/${escapeHtml(token)}">
<input type="hidden" name="handoff" value="${escapeHtml(h.id)}">
<label>Answer <select name="outcome">${choices}</select></label>
<label>Reason <input name="reason" maxlength="2000" placeholder="needed for not ready and disqualify"></label>
<label>Recycle on <input type="date" name="recycle_on"></label>
<button type="submit">Record answer</button>
</form></section>`;
    });
    const body = `<style>.handoff{border-top:1px solid #ddd;margin-top:1.5rem}.handoff form label{display:block;margin:.5rem 0}
.handoff input,.handoff select{font-size:1rem;margin-left:.5rem}.message{background:#f0f7f4;padding:.6rem;border-radius:4px}td{padding:0 .8rem 0 0}</style>
${message ? `<p class="message" role="status">${message}</p>` : ''}
<p>${escapeHtml(rep.name)} · ${handoffs.length} open handoff${handoffs.length === 1 ? '' : 's'}</p>
${cards.join('\n') || '<p>Nothing open: every lead handed to you has an answer.</p>'}`;
    return sendPage(reply, status, `Your handoffs`, body);
  }

  app.get<{ Params: { token: string } }>(
    '/r/:token',
    { schema: { tags: ['handoffs'], summary: "A rep's open handoffs and the forms to answer them (changes nothing)", params: tokenParams, response: { 200: htmlPageSchema, 404: htmlPageSchema } } },
    async (request, reply) => {
      const rep = await repOf(request.params.token);
      if (!rep) return unknown(reply);
      return page(reply, request.params.token, rep);
    },
  );

  app.post<{ Params: { token: string }; Body: Answer }>(
    '/r/:token',
    {
      schema: {
        tags: ['handoffs'],
        summary: "Record a rep's answer to one of their handoffs",
        params: tokenParams,
        body: {
          type: 'object',
          required: ['handoff', 'outcome'],
          properties: {
            handoff: { type: 'string', minLength: 1, maxLength: 200 },
            outcome: { type: 'string', enum: SALES_OUTCOMES },
            reason: { type: 'string', maxLength: 2000 },
            recycle_on: { type: 'string', maxLength: 10 },
          },
        },
        response: { 200: htmlPageSchema, 404: htmlPageSchema, 409: htmlPageSchema, 422: htmlPageSchema },
      },
    },
    async (request, reply) => {
      const token = request.params.token;
      const rep = await repOf(token);
      if (!rep) return unknown(reply);
      const { outcome } = request.body;
      const reason = request.body.reason?.trim() || undefined;
      const handoff = await getHandoff(pool, request.body.handoff);
      if (!handoff || handoff.owner?.id !== rep.id) return page(reply, token, rep, 404, 'That handoff is not yours (it may have been reassigned).');
      const refusal = answerRefusal(handoff.id, handoff.status, outcome);
      if (refusal) return page(reply, token, rep, 409, `${escapeHtml(refusal)}.`);
      if (NEEDS_REASON.includes(outcome) && !reason) return page(reply, token, rep, 422, `Give a reason to answer ${escapeHtml(outcome.replace('_', ' '))}.`);
      let recycleAt: Date | undefined;
      if (request.body.recycle_on) {
        recycleAt = /^\d{4}-\d{2}-\d{2}$/.test(request.body.recycle_on) ? new Date(`${request.body.recycle_on}T00:00:00Z`) : undefined;
        if (!recycleAt || Number.isNaN(recycleAt.getTime()) || recycleAt.getTime() <= Date.now()) {
          return page(reply, token, rep, 422, 'The recycle date must be a future date (YYYY-MM-DD).');
        }
        if (outcome !== 'not_ready') return page(reply, token, rep, 422, 'A recycle date goes only with "not ready".');
      }
      try {
        await engine.salesResponse(handoff.id, outcome, reason, recycleAt);
      } catch (error) {
        if (error instanceof EngineRefusal) return page(reply, token, rep, 409, `${escapeHtml(error.message)}.`);
        throw error;
      }
      const who = handoff.leadEmail ?? 'the lead';
      return page(reply, token, rep, 200, `Recorded: ${escapeHtml(outcome.replace('_', ' '))} for ${escapeHtml(who)}.`);
    },
  );
};
