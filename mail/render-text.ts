// The plain-text part of an email, derived once per template version from the compiled HTML
// while its Handlebars expressions are still in it. The result is itself a Handlebars template
// (compiled with noEscape, so lead data comes out as typed, not as HTML entities).
//
// What keeps the expressions intact through html-to-text:
// - no word wrapping: line widths measured on `{{lead.first_name}}` mean nothing after rendering;
// - links print their href, which by then is a `{{track_link N}}` call, so the text shows the
//   same tracked URL as the HTML;
// - html-to-text keeps every text node outside <style>/<script>, so loops around list items
//   (`{{#each}}<li>…</li>{{/each}}`) or table rows survive as text between them. Plain tables
//   would run their cells together on one line, though; data tables are written
//   `<table class="rows">` and print one row per line, cells separated by " | ".
import { convert, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';

// Cells of a row print on one line, separated by " | ": "fit | 15".
const cell: FormatCallback = (elem, walk, builder) => {
  const previous = (elem as { prev?: { type?: string } | null }).prev;
  if (previous?.type === 'tag') builder.addInline(' | ');
  walk(elem.children, builder);
};

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  formatters: { cell },
  selectors: [
    { selector: 'img', format: 'skip' },
    // The hidden trap link (scanner detection) is for machines only.
    { selector: 'a.trap', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, noAnchorUrl: true } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table.rows', format: 'block' },
    { selector: 'table.rows > tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'table.rows > tr > td', format: 'cell' },
    { selector: 'table.rows > tr > th', format: 'cell' },
  ],
};

/** Plain text of a compiled HTML template; the Handlebars expressions pass through as text. */
export function textTemplateOf(html: string): string {
  return convert(html, OPTIONS);
}
