// SPDX-License-Identifier: MIT
// What `classify` reports on stderr when it ends: one plain line when stderr is not a terminal
// (easy to grep in CI logs), a per-label block with counts, shares and colour when it is; with
// --template-tier, one more line with the tier's counters.
import { escapeTerminal } from './escapeTerminal.js';
import type { LabelPainter } from './labelStyle.js';
import type { TemplateTierStats } from '../../templates/TemplateTier.js';

export interface ClassifySummary {
  /** Lines classified. */
  lines: number;
  /** Blank lines skipped. */
  blank: number;
  /** Records written after --only / --min-score. */
  written: number;
  /** Lines per label, in the model's label order. */
  perLabel: Record<string, number>;
  seconds: number;
}

export function summaryLine(summary: ClassifySummary, filtered: boolean): string {
  const perLabel = Object.entries(summary.perLabel).map(([label, n]) => `${label} ${n}`).join(', ');
  const written = filtered ? `, ${summary.written} written after filters` : '';
  return `classified ${summary.lines} lines (${summary.blank} blank skipped${written}): ${perLabel}\n`;
}

export function summaryBlock(summary: ClassifySummary, filtered: boolean, paint: LabelPainter): string {
  const rate = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines;
  let out = `classified ${summary.lines.toLocaleString('en-US')} lines in ${summary.seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} lines/s), `;
  out += `${summary.blank.toLocaleString('en-US')} blank skipped`;
  out += filtered ? `, ${summary.written.toLocaleString('en-US')} written after filters\n` : '\n';
  const entries = Object.entries(summary.perLabel);
  const nameWidth = Math.max(...entries.map(([label]) => escapeTerminal(label).length));
  const countWidth = Math.max(...entries.map(([, n]) => n.toLocaleString('en-US').length));
  for (const [label, n] of entries) {
    const share = summary.lines > 0 ? n / summary.lines : 0;
    const bar = '█'.repeat(Math.round(share * 30));
    const name = escapeTerminal(label).padEnd(nameWidth);
    out += `  ${paint(label, name)}  ${n.toLocaleString('en-US').padStart(countWidth)}  ${(share * 100).toFixed(1).padStart(5)}%  ${paint(label, bar)}\n`;
  }
  return out;
}

/** The template tier's counters in one line (classify --template-tier), for stderr. */
export function templateTierLine(tier: TemplateTierStats): string {
  const share = (n: number) => `${((100 * n) / Math.max(tier.lines, 1)).toFixed(1)}%`;
  const agreement = tier.auditAgreement === null ? 'no audit yet' : `${(100 * tier.auditAgreement).toFixed(1)}% agreed`;
  return `template tier: ${tier.servedByTemplate} of ${tier.lines} lines (${share(tier.servedByTemplate)}) served by ${tier.templates} templates, ${tier.audits} audited (${agreement}), ${tier.retired} templates retired\n`;
}
