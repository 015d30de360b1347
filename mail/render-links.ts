// Click tracking, decided at compile time: every link of the compiled HTML whose href is an
// http(s) URL — literal, or a Handlebars expression that may yield one — is rewritten into a
// `{{track_link N}}` call. At render time the helper renders the original href against the
// email's data and, when the result is http(s), asks the caller for the signed tracking URL.
//
// Never tracked: mailto: and other schemes, the `{{unsubscribe_url}}` placeholder, and links
// marked `rel="notrack"` (works on <a> and on <mj-button>; sales answer links use it). The
// marker is removed from the output.
const ANCHOR = /<a\b([^>]*?)\shref="([^"]*)"([^>]*)>/g;
const NOTRACK = /\s+rel="notrack"/;
const UNSUBSCRIBE = /^\{\{\s*unsubscribe_url\s*\}\}$/;

export interface TrackedLinks {
  /** The HTML with tracked hrefs replaced by `{{track_link N}}`. */
  html: string;
  /** The original hrefs (Handlebars sources), by link index. */
  hrefs: string[];
}

export function trackLinks(html: string): TrackedLinks {
  const hrefs: string[] = [];
  const rewritten = html.replace(ANCHOR, (tag, before: string, href: string, after: string) => {
    if (NOTRACK.test(tag)) return tag.replace(NOTRACK, '');
    if (!isTrackable(href)) return tag;
    hrefs.push(decodeAttribute(href));
    return `<a${before} href="{{track_link ${hrefs.length - 1}}}"${after}>`;
  });
  return { html: rewritten, hrefs };
}

/** Whether a rendered href goes to the tracking redirect. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url.trim());
}

function isTrackable(href: string): boolean {
  if (UNSUBSCRIBE.test(href.trim())) return false;
  return isHttpUrl(href) || href.trim().startsWith('{{');
}

// MJML writes attribute values HTML-encoded; the tracking service wants the URL itself.
function decodeAttribute(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
