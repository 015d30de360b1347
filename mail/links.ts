// The public URLs Nurture puts in emails, each carrying a signed token (see link-tokens.ts).
import { signLink, type HandoffAction } from './link-tokens';

export interface LinkSettings {
  /** Public base URL of the API, e.g. https://nurture.example.com */
  baseUrl: string;
  secret: string;
  /** Earlier secrets whose links still verify (during a rotation); links are always signed with `secret`. */
  previousSecrets?: readonly string[];
}

/** The secrets a link is verified with: the current one first. */
export function verifyingSecrets(settings: LinkSettings): string[] {
  return [settings.secret, ...(settings.previousSecrets ?? [])];
}

const DAY_SECONDS = 24 * 60 * 60;
/** How long a rep's personal link works: every notice carries a fresh one. */
export const REP_PAGE_DAYS = 14;

/**
 * The link index of the hidden trap link in marketing emails: no person sees it, so a click on it
 * comes from a link scanner. Beyond any real link's index (templates have a handful).
 */
export const HONEYPOT_LINK = 9999;

export class Links {
  private readonly base: string;

  constructor(private readonly settings: LinkSettings) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
  }

  openPixel(message: string): string {
    return `${this.base}/t/o/${signLink({ kind: 'open', message }, this.settings.secret)}.gif`;
  }

  click(message: string, url: string, link: number): string {
    return `${this.base}/t/c/${signLink({ kind: 'click', message, url, link }, this.settings.secret)}`;
  }

  /** The hidden trap link: a click redirect like any other, to the public base URL. */
  honeypot(message: string): string {
    return this.click(message, `${this.base}/`, HONEYPOT_LINK);
  }

  /** Both the visible unsubscribe page and the RFC 8058 one-click POST target. */
  unsubscribe(message: string, lead: string): string {
    return `${this.base}/u/${signLink({ kind: 'unsubscribe', message, lead }, this.settings.secret)}`;
  }

  /** A sales rep's answer to a handoff, valid for `validDays`. */
  handoffAction(handoff: string, action: HandoffAction, now: number, validDays = 30): string {
    const expires = Math.floor(now / 1000) + validDays * DAY_SECONDS;
    return `${this.base}/h/${signLink({ kind: 'handoff', handoff, action, expires }, this.settings.secret)}`;
  }

  /** A sales rep's personal page (their open handoffs), valid for `validDays`: no account, no API key. */
  repPage(rep: string, now: number, validDays = REP_PAGE_DAYS): { url: string; expiresAt: Date } {
    const expires = Math.floor(now / 1000) + validDays * DAY_SECONDS;
    return { url: `${this.base}/r/${signLink({ kind: 'rep', rep, expires }, this.settings.secret)}`, expiresAt: new Date(expires * 1000) };
  }
}
