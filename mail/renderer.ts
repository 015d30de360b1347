// Email rendering. Templates are MJML with Handlebars expressions: templates/<name>.mjml, placed
// inside a layout from templates/layouts/ (marketing by default; `<!-- layout: sales -->` on the
// first line picks another). MJML runs once per template version (the hash of the template and
// its layout); each email then costs one run of two precompiled Handlebars templates, HTML and
// plain text, which is what makes personalised rendering fast.
//
// MJML 5 compiles asynchronously, so compilation cannot happen inside a synchronous render():
// `warm()` (or `TemplateLibrary.load()`) compiles, `render()` only reads the cache and refuses a
// template that was not warmed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { isHttpUrl, trackLinks } from './render-links';
import { textTemplateOf } from './render-text';

export const TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url));

export interface RenderRequest {
  /** 'welcome' → templates/welcome.mjml */
  template: string;
  /** A Handlebars string; rendered without HTML escaping and always on one line. */
  subject: string;
  data: Record<string, unknown>;
  links: {
    /** The signed tracking URL for an original link. */
    click(url: string, index: number): string;
    /** URL of the 1×1 open pixel, added before </body> (marketing email only). */
    openPixel?: string;
    /** One-click unsubscribe URL: `{{unsubscribe_url}}` in templates, and the RFC 8058 headers. */
    unsubscribe?: string;
    /** The hidden trap link for scanner detection: `{{honeypot_url}}` in the marketing layout. */
    honeypot?: string;
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
    /** Line in templates/<template>.mjml (or in its layout, as the detail says), when known. */
    readonly line?: number,
  ) {
    super(`template ${template}: ${detail}`);
    this.name = 'TemplateError';
  }
}

interface TemplateSource {
  version: string;
  body: string;
  layoutName: string;
  layout: string;
}

interface CompiledTemplate {
  version: string;
  html: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  /** Original hrefs (Handlebars templates themselves), by tracked-link index. */
  hrefs: Handlebars.TemplateDelegate[];
}

// What the `track_link` helper reads while one email renders; rendering is synchronous, so one slot suffices.
interface RenderScope {
  /** The final href of every tracked link, by index: the same for the HTML and the text part. */
  links: string[];
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const LAYOUT_MARKER = /^<!--\s*layout:\s*([a-z0-9-]+)\s*-->/;
const CONTENT_MARKER = '<!-- content -->';
const PIXEL =
  '{{#if open_pixel}}<img src="{{open_pixel}}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />{{/if}}';

export class TemplateLibrary {
  private readonly compiled = new Map<string, CompiledTemplate>();
  private readonly subjects = new Map<string, Handlebars.TemplateDelegate>();
  private readonly handlebars = Handlebars.create();
  private scope: RenderScope | undefined;
  private compilations = 0;

  constructor(private readonly dir: string = TEMPLATES_DIR) {
    this.handlebars.registerHelper('track_link', (index: number) => this.scope!.links[index]);
    // For data placed inside a URL (`?email={{url_encode lead.email}}`), so it cannot add parameters.
    this.handlebars.registerHelper('url_encode', (value: unknown) => encodeURIComponent(value == null ? '' : String(value)));
  }

  /** A library with every template of `dir` compiled; throws a TemplateError on the first broken one. */
  static async load(dir = TEMPLATES_DIR): Promise<TemplateLibrary> {
    const library = new TemplateLibrary(dir);
    await library.warm();
    return library;
  }

  /** Compiles the given templates (default: all) unless their current version is cached already. */
  async warm(names: string[] = this.names()): Promise<void> {
    for (const name of names) await this.compile(name);
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith('.mjml'))
      .map((file) => file.slice(0, -'.mjml'.length))
      .filter((name) => NAME.test(name))
      .sort();
  }

  has(name: string): boolean {
    return NAME.test(name) && existsSync(join(this.dir, `${name}.mjml`));
  }

  /** Content hash of the template and its layout, as the files are now. */
  version(name: string): string {
    return this.source(name).version;
  }

  /** How many MJML compilations this library has run (one per template version warmed). */
  compileCount(): number {
    return this.compilations;
  }

  render(request: RenderRequest): RenderedEmail {
    const template = this.compiled.get(request.template);
    if (!template) {
      const why = this.has(request.template) ? 'not compiled yet: call warm() or TemplateLibrary.load() first' : 'no such template';
      throw new TemplateError(request.template, why);
    }
    const context = { ...request.data, open_pixel: request.links.openPixel, unsubscribe_url: request.links.unsubscribe, honeypot_url: request.links.honeypot };
    const headers: Record<string, string> = {};
    if (request.links.unsubscribe) {
      headers['List-Unsubscribe'] = `<${request.links.unsubscribe}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    try {
      // Each link is resolved once per email, so links.click runs once per link even though both parts show it.
      const links = template.hrefs.map((href, index) => {
        const url = href(context).trim();
        return isHttpUrl(url) ? request.links.click(url, index) : url;
      });
      this.scope = { links };
      // A subject is a header: any line break in it (from the template or the data) would start a new header.
      const subject = this.subject(request.subject)(context).replace(/[\r\n\u0085\u2028\u2029]+/g, ' ').trim();
      return { subject, html: template.html(context), text: template.text(context), headers };
    } catch (error) {
      throw new TemplateError(request.template, `rendering failed: ${(error as Error).message}`);
    } finally {
      this.scope = undefined;
    }
  }

  private source(name: string): TemplateSource {
    if (!NAME.test(name)) throw new TemplateError(name, 'invalid template name (expected lowercase letters, digits, - and _)');
    const path = join(this.dir, `${name}.mjml`);
    if (!existsSync(path)) throw new TemplateError(name, `no such template (${path})`);
    const body = readFileSync(path, 'utf8');
    const layoutName = LAYOUT_MARKER.exec(body)?.[1] ?? 'marketing';
    const layoutPath = join(this.dir, 'layouts', `${layoutName}.mjml`);
    if (!existsSync(layoutPath)) throw new TemplateError(name, `no such layout "${layoutName}" (${layoutPath})`, 1);
    const layout = readFileSync(layoutPath, 'utf8');
    if (!layout.includes(CONTENT_MARKER)) throw new TemplateError(name, `layout "${layoutName}" has no ${CONTENT_MARKER} marker`);
    const version = createHash('sha256').update(layout).update('\0').update(body).digest('hex').slice(0, 16);
    return { version, body, layoutName, layout };
  }

  private async compile(name: string): Promise<void> {
    const source = this.source(name);
    if (this.compiled.get(name)?.version === source.version) return;
    // Handlebars syntax first, on the template file itself, so errors carry the file's line numbers.
    parseHandlebars(name, source.body, `${name}.mjml`);
    parseHandlebars(name, source.layout, `layouts/${source.layoutName}.mjml`);

    // The body replaces the content marker on the marker's own line, so lines map back simply.
    const body = source.body.replace(LAYOUT_MARKER, '');
    const markerAt = source.layout.indexOf(CONTENT_MARKER);
    const bodyFirstLine = source.layout.slice(0, markerAt).split('\n').length;
    const mjml = source.layout.slice(0, markerAt) + body + source.layout.slice(markerAt + CONTENT_MARKER.length);
    const where = (line: number) => {
      const bodyLines = body.split('\n').length;
      if (line >= bodyFirstLine && line < bodyFirstLine + bodyLines) return { line: line - bodyFirstLine + 1, file: `${name}.mjml` };
      const layoutLine = line < bodyFirstLine ? line : line - bodyLines + 1;
      return { line: layoutLine, file: `layouts/${source.layoutName}.mjml` };
    };

    this.compilations++;
    let html: string;
    try {
      html = (await mjml2html(mjml, { validationLevel: 'strict', keepComments: false })).html;
    } catch (error) {
      const first = (error as { errors?: { line: number; message: string; tagName: string }[] }).errors?.[0];
      if (!first) throw new TemplateError(name, `MJML: ${(error as Error).message}`);
      const at = where(first.line);
      throw new TemplateError(name, `MJML error in ${at.file} line ${at.line} (${first.tagName}): ${first.message}`, at.line);
    }

    const tracked = trackLinks(html);
    const withPixel = tracked.html.replace('</body>', `${PIXEL}</body>`);
    try {
      const compiled: CompiledTemplate = {
        version: source.version,
        html: this.handlebars.compile(withPixel, { strict: false }),
        text: this.handlebars.compile(textTemplateOf(tracked.html), { noEscape: true }),
        hrefs: tracked.hrefs.map((href) => this.handlebars.compile(href, { noEscape: true })),
      };
      this.compiled.set(name, compiled);
      // Handlebars compiles lazily; one render with empty data surfaces its errors now rather than per email.
      this.render({ template: name, subject: '', data: {}, links: { click: (url) => url } });
    } catch (error) {
      this.compiled.delete(name);
      throw error instanceof TemplateError ? error : new TemplateError(name, `Handlebars: ${(error as Error).message}`);
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
}

function parseHandlebars(template: string, source: string, file: string): void {
  try {
    Handlebars.parse(source);
  } catch (error) {
    const message = (error as Error).message;
    const line = /on line (\d+)/.exec(message)?.[1];
    throw new TemplateError(template, `Handlebars syntax in ${file}: ${message}`, line ? Number(line) : undefined);
  }
}
