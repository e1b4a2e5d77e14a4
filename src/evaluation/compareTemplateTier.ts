// SPDX-License-Identifier: MIT
// `eval --template-tier`: the same labeled rows classified with the tier off (the model on every
// line) and on, compared. Agreement is the share of rows that get the same label both ways, which
// is what the tier can cost; accuracy is given both ways against the gold labels, because a
// template's label can be right where the model's own label for a line is wrong, and the reverse.
import type { ClassificationResult } from '../LogClassifier.js';
import type { TemplateTierStats } from '../templates/TemplateTier.js';

/** What `eval --json` gives under `templateTier`. */
export interface TemplateTierComparison {
  /** The audit share the tier ran with. */
  audit: number;
  rows: number;
  /** Rows whose label with the tier on equals their label with it off, over rows. */
  agreement: number;
  /** The same over the rows served by a template (null when none was). */
  servedAgreement: number | null;
  accuracy: { tierOff: number; tierOn: number };
  servedByTemplate: number;
  /** Rows the model classified with the tier on, over rows. */
  modelCallsPerLine: number;
  audits: number;
  auditAgreement: number | null;
  retired: number;
  templates: number;
}

export function compareTemplateTier(
  gold: readonly number[],
  labels: readonly string[],
  off: readonly Pick<ClassificationResult, 'label'>[],
  on: readonly Pick<ClassificationResult, 'label' | 'via'>[],
  stats: TemplateTierStats,
  audit: number,
): TemplateTierComparison {
  const rows = gold.length;
  let same = 0;
  let served = 0;
  let servedSame = 0;
  let rightOff = 0;
  let rightOn = 0;
  for (let i = 0; i < rows; i++) {
    const agree = on[i]!.label === off[i]!.label;
    if (agree) same++;
    if (on[i]!.via === 'template') {
      served++;
      if (agree) servedSame++;
    }
    if (off[i]!.label === labels[gold[i]!]) rightOff++;
    if (on[i]!.label === labels[gold[i]!]) rightOn++;
  }
  return {
    audit,
    rows,
    agreement: same / rows,
    servedAgreement: served === 0 ? null : servedSame / served,
    accuracy: { tierOff: rightOff / rows, tierOn: rightOn / rows },
    servedByTemplate: served,
    modelCallsPerLine: (rows - served) / rows,
    audits: stats.audits,
    auditAgreement: stats.auditAgreement,
    retired: stats.retired,
    templates: stats.templates,
  };
}

const fixed = (x: number | null): string => (x === null ? '–' : x.toFixed(3));

/** The terminal form, after the metrics tables. */
export function formatTemplateTierComparison(c: TemplateTierComparison): string {
  const rows: Array<[string, string]> = [
    ['rows', String(c.rows)],
    ['served by templates', `${c.servedByTemplate} (${fixed(c.servedByTemplate / c.rows)})`],
    ['model calls per line', fixed(c.modelCallsPerLine)],
    ['same label as tier off', fixed(c.agreement)],
    ['  on served rows', fixed(c.servedAgreement)],
    ['accuracy, tier off', fixed(c.accuracy.tierOff)],
    ['accuracy, tier on', fixed(c.accuracy.tierOn)],
    ['audits', String(c.audits)],
    ['audited agreement', fixed(c.auditAgreement)],
    ['retired templates', `${c.retired} of ${c.templates}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return `\nTemplate tier (audit ${c.audit}) against the model on every row\n${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}
