// Email rendering. Templates are MJML with Handlebars expressions (templates/*.mjml inside a
// layout from templates/layouts/). MJML is compiled once per template version, when the
// library loads; each email then costs one run of two precompiled Handlebars templates (HTML
// and plain text), which is what makes personalised rendering fast.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { convert } from 'html-to-text';
import mjml2html from 'mjml';

export const TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url));

export interface RenderRequest {
  template: string;
  /** A Handlebars string; rendered without HTML escaping and kept on one line. */
  subject: string;
  data: Record<string, unknown>;
  links: {
    /** The signed tracking URL for an original link. */
    click(url: string, index: number): string;
    openPixel?: string;
    unsubscribe?: string;
  };
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export class TemplateError extends Error {
  constructor(
    readonly template: string,
    readonly detail: string,
  ) {
    super(`template ${template}: ${detail}`);
  }
}

interface CompiledTemplate {
  version: string;
  html: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  /** Original link targets (Handlebars strings themselves), by tracked-link index. */
  links: Handlebars.TemplateDelegate[];
}

// Per-render state the `track_link` helper reads; rendering is synchronous, so one slot suffices.
interface RenderScope {
  template: CompiledTemplate;
  click: RenderRequest['links']['click'];
  context: Record<string, unknown>;
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const LAYOUT_MARKER = /^<!--\s*layout:\s*([a-z0-9-]+)\s*-->\s*/;

export class TemplateLibrary {
  private readonly compiled = new Map<string, CompiledTemplate>();
  private readonly subjects = new Map<string, Handlebars.TemplateDelegate>();
  private readonly handlebars = Handlebars.create();
  private scope: RenderScope | undefined;
  private compilations = 0;

  private constructor(private readonly dir: string) {
    this.handlebars.registerHelper('track_link', (index: number) => {
      const scope = this.scope!;
      const url = scope.template.links[index]!(scope.context);
      return scope.click(url, index);
    });
  }

  /** Compiles every template of `dir` (MJML → HTML → Handlebars); throws a TemplateError on the first broken one. */
  static async load(dir = TEMPLATES_DIR): Promise<TemplateLibrary> {
    const library = new TemplateLibrary(dir);
    for (const name of library.names()) await library.compile(name);
    return library;
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith('.mjml'))
      .map((file) => file.slice(0, -'.mjml'.length))
      .sort();
  }

  has(name: string): boolean {
    return this.compiled.has(name);
  }

  version(name: string): string {
    return this.get(name).version;
  }

  /** How many MJML compilations this library has run (one per template version). */
  compileCount(): number {
    return this.compilations;
  }

  /** Compiles (or recompiles, when its files changed) one template. */
  async compile(name: string): Promise<void> {
    if (!NAME.test(name)) throw new TemplateError(name, 'invalid template name');
    let body: string;
    try {
      body = readFileSync(join(this.dir, `${name}.mjml`), 'utf8');
    } catch {
      throw new TemplateError(name, 'no such template');
    }
    const layoutName = LAYOUT_MARKER.exec(body)?.[1] ?? 'marketing';
    let layout: string;
    try {
      layout = readFileSync(join(this.dir, 'layouts', `${layoutName}.mjml`), 'utf8');
    } catch {
      throw new TemplateError(name, `no such layout "${layoutName}"`);
    }
    const version = createHash('sha256').update(layout).update('\0').update(body).digest('hex').slice(0, 16);
    if (this.compiled.get(name)?.version === version) return;

    const source = layout.replace('<!-- content -->', body.replace(LAYOUT_MARKER, ''));
    const result = await mjml2html(source, { validationLevel: 'strict', keepComments: false });
    this.compilations++;
    if (result.errors.length) {
      const first = result.errors[0]!;
      // Lines count from the layout's start; report them in the template file's terms when we can.
      throw new TemplateError(name, `MJML error at line ${first.line} of the combined layout: ${first.message}`);
    }
    const { html, links } = trackLinks(result.html);
    const withPixel = html.replace(
      '</body>',
      '{{#if open_pixel}}<img src="{{open_pixel}}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />{{/if}}</body>',
    );
    const text = convert(html, {
      wordwrap: 100,
      selectors: [
        { selector: 'img', format: 'skip' },
        { selector: 'a', options: { hideLinkHrefIfSameAsText: true, noAnchorUrl: true } },
        ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
        { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
      ],
    });
    try {
      this.compiled.set(name, {
        version,
        html: this.handlebars.compile(withPixel, { strict: false }),
        text: this.handlebars.compile(text, { noEscape: true }),
        links: links.map((link) => this.handlebars.compile(link, { noEscape: true })),
      });
      // Handlebars compiles lazily; run once to surface syntax errors now.
      this.render({ template: name, subject: '', data: {}, links: { click: (url) => url } });
    } catch (error) {
      this.compiled.delete(name);
      throw error instanceof TemplateError ? error : new TemplateError(name, `Handlebars: ${(error as Error).message}`);
    }
  }

  render(request: RenderRequest): RenderedEmail {
    const template = this.get(request.template);
    const context = {
      ...request.data,
      open_pixel: request.links.openPixel,
      unsubscribe_url: request.links.unsubscribe,
    };
    this.scope = { template, click: request.links.click, context };
    try {
      const subject = this.subject(request.subject)(context)
        .replace(/[\r\n]+/g, ' ')
        .trim();
      const headers: Record<string, string> = {};
      if (request.links.unsubscribe) {
        headers['List-Unsubscribe'] = `<${request.links.unsubscribe}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
      return { subject, html: template.html(context), text: template.text(context), headers };
    } catch (error) {
      throw new TemplateError(request.template, `Handlebars: ${(error as Error).message}`);
    } finally {
      this.scope = undefined;
    }
  }

  private subject(source: string): Handlebars.TemplateDelegate {
    let compiled = this.subjects.get(source);
    if (!compiled) {
      compiled = this.handlebars.compile(source, { noEscape: true });
      // Subjects come from campaign versions: few, but bounded all the same.
      if (this.subjects.size > 10_000) this.subjects.clear();
      this.subjects.set(source, compiled);
    }
    return compiled;
  }

  private get(name: string): CompiledTemplate {
    const template = this.compiled.get(name);
    if (!template) throw new TemplateError(name, 'no such template');
    return template;
  }
}

/**
 * Rewrites every http(s) link of the compiled HTML into a `track_link` call, so each email gets
 * its own signed tracking URLs. Links that are Handlebars values (the unsubscribe URL, a
 * sales rep's signed answer links) are not http(s) at this point and stay as they are.
 */
function trackLinks(html: string): { html: string; links: string[] } {
  const links: string[] = [];
  const rewritten = html.replace(/<a\b([^>]*?)\bhref="([^"]*)"([^>]*)>/g, (tag, before: string, href: string, after: string) => {
    if (!/^https?:\/\//i.test(href)) return tag;
    links.push(decodeEntities(href));
    return `<a${before}href="{{track_link ${links.length - 1}}}"${after}>`;
  });
  return { html: rewritten, links };
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}
