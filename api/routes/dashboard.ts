// The marketer dashboard: a static page (api/dashboard/: HTML, CSS, ES modules, no build step)
// that reads the /v1 API with the key its user gives it. The files carry no data, so they are
// public; the data stays behind the key. The files are read once, when the API starts, and only
// those files are served: a request names a file by its bare name, never a path.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ApiContext } from '../context';
import { notFound } from '../errors';

export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Scripts and styles only from this origin (no inline script, no eval), data only from /v1 on
// this origin, nothing embedded elsewhere. form-action 'none': the key form is handled by the
// script, so a form submitted without it never puts the key into a URL.
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  if (!assets.has('index.html')) throw new Error(`the dashboard has no index.html in ${dir}`);
  return assets;
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    // The page is small; always asking again means a deployed change is seen at once.
    .header('cache-control', 'no-cache')
    .type(asset.type)
    .send(asset.body);
}

export const dashboardRoutes: FastifyPluginAsync<ApiContext> = async (app) => {
  const assets = loadAssets(DASHBOARD_DIR);

  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) => send(reply, assets.get('index.html')!));

  // The page refers to its files as /dashboard/<name>; /dashboard/ itself goes to the page.
  app.get('/dashboard/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/dashboard', 301));

  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { schema: { hide: true, params: { type: 'object', required: ['file'], properties: { file: { type: 'string', maxLength: 100 } } } } },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (!asset) throw notFound(`dashboard file ${request.params.file}`);
      return send(reply, asset);
    },
  );
};
