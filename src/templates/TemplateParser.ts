// SPDX-License-Identifier: MIT
// An online log template parser: one raw line in, its template out, learning as it reads (Drain,
// He et al. 2017, with the header found and the variables masked by itself: splitHeader.ts,
// maskVariables.ts). A line's masked tokens are routed by their count and their first token (a
// token holding a wildcard routes to the wildcard child; past `maxChildren` first tokens per count,
// new ones do too) to a short list of templates; the most similar one (constant tokens the two share
// at the same place, over the constants of the template or of the line, whichever has more) takes
// the line if that reaches `similarity`, and the tokens where
// they differ become `<*>`; otherwise the line starts a new template.
// Deterministic: the same lines in the same order give the same ids and templates. Bounded: at most
// `maxTemplates` templates (the least recently used one is evicted; a line of it later starts a new
// one) of at most `maxLineLength` characters each. Template ids are a hash of the template's first
// form, so the same event gets the same id in another run or another file.
import { parseOptions, templateParserOptionsSchema, type TemplateParserOptions } from '../options.js';
import { maskVariables, WILDCARD } from './maskVariables.js';
import { sanitizeLine } from './sanitizeLine.js';
import { splitHeader } from './splitHeader.js';

/** One line's template, as the parser knows it after reading the line. */
export interface TemplateMatch {
  /** Stable id of the template (8 hex digits, `-n` appended if two first forms hash alike). */
  id: string;
  /** The template of the message: its constant tokens, `<*>` where lines differ. */
  template: string;
  /** The line's header (timestamp, host, level, component, ...), as found; '' when none. */
  header: string;
  /** Lines of this template so far, this one included. */
  count: number;
  /** This line started the template. */
  created: boolean;
}

/** A template and how many lines it took. */
export interface TemplateSummary {
  id: string;
  template: string;
  count: number;
}

interface Template {
  id: string;
  tokens: string[];
  /** Tokens that are not WILDCARD (the denominator of the similarity). */
  constants: number;
  count: number;
  leaf: Template[];
  routes: Map<string, Template[]>;
  route: string;
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function hashId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export class TemplateParser {
  readonly options: Readonly<Required<TemplateParserOptions>>;
  /** Every template, least recently used first (a Map keeps insertion order; a hit re-inserts). */
  private readonly byId = new Map<string, Template>();
  /** Token count -> first token (or WILDCARD) -> templates. */
  private readonly tree = new Map<number, Map<string, Template[]>>();
  private evictedCount = 0;
  private linesCount = 0;

  constructor(options: TemplateParserOptions = {}) {
    this.options = parseOptions(templateParserOptionsSchema, options, 'TemplateParser options');
  }

  /** Templates held now. */
  get size(): number {
    return this.byId.size;
  }

  /** Templates evicted so far (least recently used, past `maxTemplates`). */
  get evicted(): number {
    return this.evictedCount;
  }

  /** Lines read so far. */
  get lines(): number {
    return this.linesCount;
  }

  /** Reads one raw line (header included) and returns its template. */
  add(line: string): TemplateMatch {
    this.linesCount++;
    const { header, message } = splitHeader(sanitizeLine(line, this.options.maxLineLength));
    const tokens = maskVariables(message);
    const routes = this.routesFor(tokens.length);
    const first = tokens[0] ?? '';
    const route = routes.has(first) && !first.includes(WILDCARD) ? first : WILDCARD;
    const leaf = routes.get(route);
    const best = leaf === undefined ? undefined : this.closest(leaf, tokens);
    if (best !== undefined) {
      best.count++;
      let constants = 0;
      for (let i = 0; i < tokens.length; i++) {
        if (best.tokens[i] !== tokens[i]) best.tokens[i] = WILDCARD;
        if (best.tokens[i] !== WILDCARD) constants++;
      }
      best.constants = constants;
      this.byId.delete(best.id);
      this.byId.set(best.id, best);
      return { id: best.id, template: best.tokens.join(' '), header, count: best.count, created: false };
    }
    const created = this.create(tokens, routes);
    return { id: created.id, template: created.tokens.join(' '), header, count: 1, created: true };
  }

  /** The templates held now, most lines first (ties: by id). */
  templates(): TemplateSummary[] {
    return [...this.byId.values()]
      .map((t) => ({ id: t.id, template: t.tokens.join(' '), count: t.count }))
      .sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private routesFor(length: number): Map<string, Template[]> {
    let routes = this.tree.get(length);
    if (routes === undefined) this.tree.set(length, (routes = new Map()));
    return routes;
  }

  private closest(leaf: readonly Template[], tokens: readonly string[]): Template | undefined {
    let best: Template | undefined;
    let bestSimilarity = -1;
    let bestWildcards = -1;
    let lineConstants = 0;
    for (const token of tokens) if (token !== WILDCARD) lineConstants++;
    for (const t of leaf) {
      let same = 0;
      for (let i = 0; i < tokens.length; i++) if (t.tokens[i] !== WILDCARD && t.tokens[i] === tokens[i]) same++;
      // Shared constants over the constants of the template or of the line, whichever has more: an
      // all-wildcard template takes only all-wildcard lines, not every line of its length.
      const constants = Math.max(t.constants, lineConstants);
      const similarity = constants === 0 ? 1 : same / constants;
      const wildcards = t.tokens.length - t.constants;
      if (similarity > bestSimilarity || (similarity === bestSimilarity && wildcards > bestWildcards)) {
        best = t;
        bestSimilarity = similarity;
        bestWildcards = wildcards;
      }
    }
    return bestSimilarity >= this.options.similarity ? best : undefined;
  }

  private create(tokens: string[], routes: Map<string, Template[]>): Template {
    const first = tokens[0] ?? '';
    const route = first.includes(WILDCARD) || (!routes.has(first) && routes.size >= this.options.maxChildren) ? WILDCARD : first;
    let leaf = routes.get(route);
    if (leaf === undefined) routes.set(route, (leaf = []));
    const text = tokens.join(' ');
    let id = hashId(`${tokens.length}\u0000${text}`);
    for (let n = 1; this.byId.has(id); n++) id = `${id.split('-')[0]!}-${n}`;
    const template: Template = { id, tokens: [...tokens], constants: tokens.filter((t) => t !== WILDCARD).length, count: 1, leaf, routes, route };
    leaf.push(template);
    this.byId.set(id, template);
    if (this.byId.size > this.options.maxTemplates) this.evictOldest();
    return template;
  }

  private evictOldest(): void {
    const oldest = this.byId.values().next().value!;
    this.byId.delete(oldest.id);
    oldest.leaf.splice(oldest.leaf.indexOf(oldest), 1);
    if (oldest.leaf.length === 0) {
      oldest.routes.delete(oldest.route);
      if (oldest.routes.size === 0) this.tree.delete(oldest.tokens.length);
    }
    this.evictedCount++;
  }
}
