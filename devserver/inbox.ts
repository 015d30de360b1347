// The web inbox of `npm start`: every email the local SMTP sink received (what leads and sales
// reps would have got), kept in a JSON-lines file so that it survives restarts, readable in a
// browser and as JSON. Email bodies are shown in a sandboxed frame: their links work (tracking
// and unsubscribe go to the local API), their scripts never run.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { escapeHtml } from '../runtime/html';
import type { ReceivedMessage, SmtpSink } from './smtp-sink';

export interface Inbox {
  url: string;
  messages(): ReceivedMessage[];
  close(): Promise<void>;
}

function loadKept(file: string): ReceivedMessage[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as ReceivedMessage];
      } catch {
        return []; // a line cut short by a crash
      }
    });
}

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}tr:hover{background:#f6f8fa}
a{color:#0b5cad}iframe{width:100%;height:70vh;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f8fa;padding:1rem}
.muted{color:#666}</style></head><body>${body}</body></html>`;

function listPage(messages: ReceivedMessage[], to: string | undefined): string {
  const rows = messages
    .map((message, index) => ({ message, index }))
    .filter(({ message }) => !to || message.to.some((address) => address.includes(to)))
    .reverse()
    .map(
      ({ message, index }) =>
        `<tr><td class="muted">${escapeHtml(new Date(message.receivedAt).toLocaleString())}</td><td>${escapeHtml(message.to.join(', '))}</td>` +
        `<td><a href="/messages/${index}">${escapeHtml(message.subject || '(no subject)')}</a></td><td class="muted">${escapeHtml(message.from)}</td></tr>`,
    )
    .join('');
  return page(
    'Nurture inbox',
    `<h1>Nurture inbox</h1><p class="muted">Every email sent through the local SMTP sink, newest first.
     <form method="get" action="/">Recipient contains <input name="to" value="${escapeHtml(to ?? '')}"> <button>Filter</button></form></p>
     <table><tr><th>received</th><th>to</th><th>subject</th><th>from</th></tr>${rows || '<tr><td colspan="4">No email yet.</td></tr>'}</table>`,
  );
}

function messagePage(message: ReceivedMessage, index: number): string {
  const header = (name: string) => (message.headers[name] ? `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(message.headers[name]!)}</td></tr>` : '');
  return page(
    message.subject,
    `<p><a href="/">← inbox</a></p><h1>${escapeHtml(message.subject)}</h1>
     <table><tr><th>from</th><td>${escapeHtml(message.from)}</td></tr><tr><th>to</th><td>${escapeHtml(message.to.join(', '))}</td></tr>
     ${header('date')}${header('message-id')}${header('list-unsubscribe')}${header('list-unsubscribe-post')}</table>
     <h2>HTML</h2><iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src="/messages/${index}/html" title="HTML part"></iframe>
     <h2>Text</h2><pre>${escapeHtml(message.text)}</pre>`,
  );
}

export async function startInbox(options: { sink: SmtpSink; port: number; host?: string; file: string }): Promise<Inbox> {
  const kept = loadKept(options.file);
  const out = createWriteStream(options.file, { flags: 'a' });
  const stopListening = options.sink.onMessage((message) => {
    kept.push(message);
    out.write(`${JSON.stringify(message)}\n`);
  });

  const app: FastifyInstance = Fastify({ logger: false });
  const byIndex = (raw: string) => (/^\d{1,9}$/.test(raw) ? kept[Number(raw)] : undefined);
  const html = (body: string) => ({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', body });

  app.get<{ Querystring: { to?: string } }>('/', async (request, reply) => {
    const { body, ...headers } = html(listPage(kept, typeof request.query.to === 'string' ? request.query.to : undefined));
    return reply.headers(headers).send(body);
  });
  app.get('/api/messages', async () => ({
    messages: kept.map((message, index) => ({ index, receivedAt: new Date(message.receivedAt).toISOString(), from: message.from, to: message.to, subject: message.subject, messageId: message.messageId })),
  }));
  app.get<{ Params: { index: string } }>('/api/messages/:index', async (request, reply) => {
    const message = byIndex(request.params.index);
    return message ? message : reply.status(404).send({ error: `no message ${request.params.index}` });
  });
  app.get<{ Params: { index: string } }>('/messages/:index', async (request, reply) => {
    const message = byIndex(request.params.index);
    if (!message) return reply.status(404).type('text/plain').send(`no message ${request.params.index}`);
    const { body, ...headers } = html(messagePage(message, Number(request.params.index)));
    return reply.headers(headers).send(body);
  });
  app.get<{ Params: { index: string } }>('/messages/:index/html', async (request, reply) => {
    const message = byIndex(request.params.index);
    if (!message) return reply.status(404).type('text/plain').send(`no message ${request.params.index}`);
    // The email's own HTML, as a mail client would show it; scripts are off (sandbox).
    return reply
      .header('content-security-policy', 'sandbox allow-popups allow-popups-to-escape-sandbox')
      .type('text/html; charset=utf-8')
      .send(message.html || `<pre>${escapeHtml(message.text)}</pre>`);
  });

  try {
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    stopListening();
    out.end();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${options.port} is already in use: set INBOX_PORT to another port`);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    messages: () => kept,
    async close() {
      stopListening();
      await app.close();
      await new Promise<void>((resolve) => out.end(resolve));
    },
  };
}
