// SPDX-License-Identifier: MIT
// The template tier in front of the model (open()'s `templateTier`, docs/templates.md#template-tier).
// Each line is given its template by a TemplateParser. The first line of a template goes to the
// model and its result becomes the template's; a later line takes that result (route 'template'),
// except a seeded random `audit` share that the model classifies anyway (route 'audit'). Audited
// lines are compared with the template's label; once a template has `minAudits` audits and agrees
// on less than `minAgreement` of them it is retired: its lines go to the model again (route
// 'retired'), and stats() lists it. Lines of a template whose first line is still with the model
// wait for that result; if that call fails (aborted, disposed) they go to the model themselves.
// The model is reached only through `runModel`, once per call (plus once for such stragglers).
import { parseOptions, templateTierOptionsSchema, type TemplateTierOptions } from '../options.js';
import { TemplateParser } from './TemplateParser.js';
import { seededRandom } from '../seededRandom.js';

export type TierRoute = 'first' | 'template' | 'audit' | 'retired';

/** One line's result and how it was obtained. */
export interface TierResult<R> {
  result: R;
  route: TierRoute;
  /** The line's template id. */
  templateId: string;
}

/** A template retired to per-line classification. */
export interface RetiredTemplate {
  id: string;
  template: string;
  /** The label its first line got, which its audited lines disagreed with. */
  label: string;
  audits: number;
  agreements: number;
}

export interface TemplateTierStats {
  /** Lines routed through the tier. */
  lines: number;
  /** Lines given their template's result without the model. */
  servedByTemplate: number;
  /** Lines the model classified to check their template's label. */
  audits: number;
  /** Audited lines whose label was their template's. */
  agreements: number;
  /** agreements / audits; null before the first audit. */
  auditAgreement: number | null;
  /** Templates retired so far. */
  retired: number;
  /** Templates tracked now. */
  templates: number;
  /** The most recently retired templates (at most 100), oldest first. */
  retiredTemplates: RetiredTemplate[];
}

interface TemplateState<R> {
  id: string;
  template: string;
  first?: R;
  pending?: Promise<R | undefined>;
  audits: number;
  agreements: number;
  retired: boolean;
}

interface Plan<R> {
  text: string;
  state: TemplateState<R>;
  kind: TierRoute | 'wait';
  /** For 'wait' (and an 'audit' routed while it was in flight): the first line's result as it will come. */
  waitFor?: Promise<R | undefined>;
}

const MAX_RETIRED_LISTED = 100;

export class TemplateTier<R extends { label: string }> {
  readonly options: Readonly<Required<TemplateTierOptions>>;
  private readonly parser: TemplateParser;
  private readonly random: () => number;
  /** Template state by id, least recently used first. */
  private readonly states = new Map<string, TemplateState<R>>();
  private readonly retiredList: RetiredTemplate[] = [];
  private readonly counts = { lines: 0, servedByTemplate: 0, audits: 0, agreements: 0, retired: 0 };

  constructor(options: TemplateTierOptions = {}) {
    this.options = parseOptions(templateTierOptionsSchema, options, 'templateTier options');
    this.parser = new TemplateParser({ maxTemplates: this.options.maxTemplates });
    this.random = seededRandom(this.options.seed);
  }

  /** Results of `texts` in input order; `runModel` classifies the lines the model has to see. */
  async classify(texts: readonly string[], runModel: (texts: string[]) => Promise<R[]>): Promise<TierResult<R>[]> {
    const firsts = new Map<TemplateState<R>, (result: R | undefined) => void>();
    const plans = texts.map((text) => this.plan(text, firsts));
    const toModel = plans.filter((p) => p.kind === 'first' || p.kind === 'audit' || p.kind === 'retired');
    let modelResults: R[];
    try {
      modelResults = toModel.length > 0 ? await runModel(toModel.map((p) => p.text)) : [];
    } catch (err) {
      // Lines waiting on these firsts (here or in other calls) will go to the model themselves.
      for (const [state, resolve] of firsts) {
        state.pending = undefined;
        resolve(undefined);
      }
      throw err;
    }
    const results = new Map<Plan<R>, R>();
    toModel.forEach((p, i) => {
      const result = modelResults[i]!;
      results.set(p, result);
      if (p.kind === 'first') {
        p.state.first = result;
        p.state.pending = undefined;
        firsts.get(p.state)!(result);
      }
    });
    for (const p of toModel) {
      if (p.kind !== 'audit') continue;
      // An audit drawn while its template's first line was in flight is compared once that is back.
      if (p.state.first === undefined && p.waitFor !== undefined) await p.waitFor;
      if (p.state.first === undefined) p.state.first = results.get(p)!; // that first line failed: this result is the template's
      else this.recordAudit(p.state, results.get(p)!);
    }
    // Lines whose template's first line was with the model when they were routed.
    const stragglers: Plan<R>[] = [];
    for (const p of plans) {
      if (p.kind !== 'wait') continue;
      const first = await p.waitFor!;
      if (first === undefined) stragglers.push(p);
      else results.set(p, first);
    }
    if (stragglers.length > 0) {
      const again = await runModel(stragglers.map((p) => p.text));
      stragglers.forEach((p, i) => {
        results.set(p, again[i]!);
        p.kind = 'first'; // classified by the model, as a first line is
        p.state.first ??= again[i]!;
      });
    }
    return plans.map((p) => {
      const route: TierRoute = p.kind === 'wait' ? 'template' : p.kind;
      if (route === 'template') this.counts.servedByTemplate++;
      return { result: p.kind === 'template' ? p.state.first! : results.get(p)!, route, templateId: p.state.id };
    });
  }

  stats(): TemplateTierStats {
    const { lines, servedByTemplate, audits, agreements, retired } = this.counts;
    return {
      lines,
      servedByTemplate,
      audits,
      agreements,
      auditAgreement: audits === 0 ? null : agreements / audits,
      retired,
      templates: this.states.size,
      retiredTemplates: this.retiredList.map((t) => ({ ...t })),
    };
  }

  /** Routes one line; a first line's template gets a pending result (resolved through `firsts`) that later lines wait on. */
  private plan(text: string, firsts: Map<TemplateState<R>, (result: R | undefined) => void>): Plan<R> {
    this.counts.lines++;
    const match = this.parser.add(text);
    let state = this.states.get(match.id);
    if (state === undefined) state = { id: match.id, template: match.template, audits: 0, agreements: 0, retired: false };
    else this.states.delete(match.id);
    this.states.set(match.id, state);
    if (this.states.size > this.options.maxTemplates) this.states.delete(this.states.keys().next().value!);
    state.template = match.template;
    if (state.retired) return { text, state, kind: 'retired' };
    if (state.first === undefined) {
      if (state.pending !== undefined) {
        const kind = this.random() < this.options.audit ? 'audit' : 'wait';
        return { text, state, kind, waitFor: state.pending };
      }
      const first = state;
      first.pending = new Promise<R | undefined>((resolve) => firsts.set(first, resolve));
      return { text, state, kind: 'first' };
    }
    // Every line but a template's first is drawn for an audit (one draw per line, in order).
    if (this.random() < this.options.audit) return { text, state, kind: 'audit' };
    return { text, state, kind: 'template' };
  }

  private recordAudit(state: TemplateState<R>, result: R): void {
    this.counts.audits++;
    state.audits++;
    if (result.label === state.first?.label) {
      this.counts.agreements++;
      state.agreements++;
    }
    if (!state.retired && state.audits >= this.options.minAudits && state.agreements / state.audits < this.options.minAgreement) {
      state.retired = true;
      this.counts.retired++;
      this.retiredList.push({ id: state.id, template: state.template, label: state.first!.label, audits: state.audits, agreements: state.agreements });
      if (this.retiredList.length > MAX_RETIRED_LISTED) this.retiredList.shift();
    }
  }
}
