// The few HTML pages a lead or a sales rep sees (unsubscribe, handoff confirmation). Everything
// interpolated is escaped; pages are never cached and never framed.
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../runtime/html';

export function sendPage(reply: FastifyReply, status: number, title: string, bodyHtml: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`;
  return reply
    .status(status)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .type('text/html; charset=utf-8')
    .send(html);
}

/** A page with one button that POSTs `fields` back to `action`. */
export function confirmForm(action: string, fields: Record<string, string>, button: string): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<form method="post" action="${escapeHtml(action)}">${inputs}<button type="submit">${escapeHtml(button)}</button></form>`;
}

export const htmlPageSchema = { type: 'string', description: 'an HTML page' } as const;
