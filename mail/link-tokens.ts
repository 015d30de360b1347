// Signed link tokens: what a tracking pixel, a click redirect, an unsubscribe link or a sales
// action link may do is written in the token and sealed with HMAC-SHA256, so nobody can forge
// one or point a redirect somewhere we did not send.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { unreachable } from '../campaign/unreachable';

export type LinkClaims =
  | { kind: 'open'; message: string }
  | { kind: 'click'; message: string; url: string; link: number }
  | { kind: 'unsubscribe'; message: string; lead: string }
  | { kind: 'handoff'; handoff: string; action: HandoffAction; expires: number }
  /** A sales rep's personal page: their open handoffs and the answers to them. */
  | { kind: 'rep'; rep: string; expires: number };

export type HandoffAction = 'accept' | 'not_ready' | 'disqualify';

// Short field names keep tokens (and so URLs) short.
interface Wire {
  k: 'o' | 'c' | 'u' | 'h' | 'r';
  r?: string;
  m?: string;
  u?: string;
  i?: number;
  l?: string;
  h?: string;
  a?: HandoffAction;
  x?: number;
}

function toWire(claims: LinkClaims): Wire {
  switch (claims.kind) {
    case 'open':
      return { k: 'o', m: claims.message };
    case 'click':
      return { k: 'c', m: claims.message, u: claims.url, i: claims.link };
    case 'unsubscribe':
      return { k: 'u', m: claims.message, l: claims.lead };
    case 'handoff':
      return { k: 'h', h: claims.handoff, a: claims.action, x: claims.expires };
    case 'rep':
      return { k: 'r', r: claims.rep, x: claims.expires };
    default:
      return unreachable(claims, 'link');
  }
}

function fromWire(wire: Wire): LinkClaims | undefined {
  const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
  switch (wire.k) {
    case 'o':
      return isText(wire.m) ? { kind: 'open', message: wire.m } : undefined;
    case 'c':
      return isText(wire.m) && isText(wire.u) && Number.isInteger(wire.i)
        ? { kind: 'click', message: wire.m, url: wire.u, link: wire.i! }
        : undefined;
    case 'u':
      return isText(wire.m) && isText(wire.l) ? { kind: 'unsubscribe', message: wire.m, lead: wire.l } : undefined;
    case 'h':
      return isText(wire.h) && ['accept', 'not_ready', 'disqualify'].includes(wire.a ?? '') && Number.isFinite(wire.x)
        ? { kind: 'handoff', handoff: wire.h, action: wire.a!, expires: wire.x! }
        : undefined;
    case 'r':
      return isText(wire.r) && Number.isFinite(wire.x) ? { kind: 'rep', rep: wire.r, expires: wire.x! } : undefined;
    default:
      return undefined;
  }
}

function mac(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function signLink(claims: LinkClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(toWire(claims))).toString('base64url');
  return `${payload}.${mac(payload, secret).toString('base64url')}`;
}

/**
 * The claims of a genuine, unexpired token; undefined for anything else. `secret` is the current
 * secret, or the current one followed by earlier ones that still verify during a rotation.
 */
export function verifyLink(token: string, secret: string | readonly string[], now = Date.now()): LinkClaims | undefined {
  if (typeof token !== 'string' || token.length > 8192) return undefined;
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const signedWith = (key: string) => {
    const expected = mac(payload, key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!(typeof secret === 'string' ? [secret] : secret).some(signedWith)) return undefined;
  let wire: Wire;
  try {
    wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Wire;
  } catch {
    return undefined;
  }
  const claims = wire && typeof wire === 'object' ? fromWire(wire) : undefined;
  if ((claims?.kind === 'handoff' || claims?.kind === 'rep') && claims.expires * 1000 < now) return undefined;
  return claims;
}
