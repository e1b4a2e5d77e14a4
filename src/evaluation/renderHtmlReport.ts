// SPDX-License-Identifier: MIT
// The `eval --report` page: one self-contained HTML file with inline SVG charts (confusion-matrix
// heat map, per-class precision/recall/F1 bars) and the misclassified rows. It loads nothing: no
// script, font, image or stylesheet, and its Content-Security-Policy forbids any. Log text is
// hostile, so every string from the data or the model goes through escapeHtml.
import type { EvaluationMetrics } from './metrics.js';
import { escapeHtml, fixed, pct } from './htmlText.js';
import { renderTrustSection, type TrustInput } from './renderTrustSection.js';

export interface MisclassifiedRow {
  where: string;
  text: string;
  gold: string;
  predicted: string;
  /** Probability of the predicted label. */
  score: number;
}

export interface HtmlReportInput {
  metrics: EvaluationMetrics;
  /** Every misclassified row; the report lists the most confident `maxExamples` of them. */
  misclassified: readonly MisclassifiedRow[];
  maxExamples: number;
  /** The labeled file and the model, as given on the command line. */
  source: string;
  model: string;
  generatedAt: Date;
  /** Calibration, reliability diagram, coverage and alert thresholds; left out when absent. */
  trust?: TrustInput;
  /** The metrics of the rows `label --mode random` chose, when the file mixes them with others, and what they are. */
  randomMode?: { metrics: EvaluationMetrics; heading: string };
}

const shorten = (label: string, max: number): string => (label.length > max ? `${label.slice(0, max - 1)}…` : label);

/** ColorBrewer "Blues" from its lightest to its darkest step, by linear interpolation. */
function blue(fraction: number): string {
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  const rgb = from.map((f, i) => Math.round(f + (to[i]! - f) * fraction));
  return `rgb(${rgb.join(',')})`;
}

const LABEL_CHARS = 18;
const CHAR_PX = 7.5;

function confusionHeatMap(metrics: EvaluationMetrics): string {
  const { labels, confusionMatrix, perClass } = metrics;
  const cell = 64;
  const labelPx = Math.round(Math.min(LABEL_CHARS, Math.max(...labels.map((l) => l.length))) * CHAR_PX);
  const left = labelPx + 40;
  // Column labels run up and to the right at 45°: room above the grid and past its right edge.
  const slant = Math.round(labelPx * Math.SQRT1_2);
  const top = slant + 40;
  const size = cell * labels.length;
  const width = left + size + Math.max(10, slant - cell / 2);
  const height = top + size + 10;
  const parts: string[] = [];
  labels.forEach((label, i) => {
    const name = escapeHtml(shorten(label, LABEL_CHARS));
    const full = `<title>${escapeHtml(label)}</title>`;
    const x = left + i * cell + cell / 2;
    parts.push(`<text class="axis-label" x="${x}" y="${top - 8}" transform="rotate(-45 ${x} ${top - 8})">${full}${name}</text>`);
    parts.push(`<text class="axis-label" x="${left - 8}" y="${top + i * cell + cell / 2}" text-anchor="end" dominant-baseline="middle">${full}${name}</text>`);
  });
  confusionMatrix.forEach((counts, g) => {
    const support = perClass[g]!.support;
    counts.forEach((count, p) => {
      // Shaded by the share of the gold row, so rare classes are as readable as common ones.
      const share = support === 0 ? 0 : count / support;
      const x = left + p * cell;
      const y = top + g * cell;
      const title = `gold ${labels[g]!} → predicted ${labels[p]!}: ${count} (${pct(share)} of gold ${labels[g]!})`;
      parts.push(
        `<g class="cm-cell${g === p ? ' cm-diagonal' : ''}" data-gold="${escapeHtml(labels[g]!)}" data-predicted="${escapeHtml(labels[p]!)}" data-count="${count}">` +
          `<title>${escapeHtml(title)}</title>` +
          `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blue(share)}"/>` +
          `<text class="cm-count" x="${x + cell / 2}" y="${y + cell / 2}" fill="${share > 0.5 ? '#fff' : '#1b1f24'}">${count}</text>` +
          `</g>`,
      );
    });
  });
  return (
    `<svg id="confusion-matrix" role="img" aria-label="Confusion matrix" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<text class="axis-title" x="${left + size / 2}" y="14" text-anchor="middle">Predicted label</text>` +
    `<text class="axis-title" x="14" y="${top + size / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + size / 2})">Gold label</text>` +
    parts.join('') +
    `<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#8c959f"/>` +
    `</svg>`
  );
}

const BAR_SERIES = [
  { key: 'precision', name: 'Precision', color: '#4c78a8' },
  { key: 'recall', name: 'Recall', color: '#f58518' },
  { key: 'f1', name: 'F1', color: '#54a24b' },
] as const;

function perClassBars(metrics: EvaluationMetrics): string {
  const left = Math.round(Math.min(LABEL_CHARS, Math.max(...metrics.labels.map((l) => l.length))) * CHAR_PX) + 16;
  const barWidth = 320;
  const barHeight = 14;
  const groupHeight = BAR_SERIES.length * barHeight + 16;
  const top = 34;
  const width = left + barWidth + 140;
  const height = top + groupHeight * metrics.perClass.length;
  const legend = BAR_SERIES.map(
    (s, i) => `<rect x="${left + i * 100}" y="6" width="12" height="12" fill="${s.color}"/><text x="${left + i * 100 + 18}" y="16">${s.name}</text>`,
  ).join('');
  const groups = metrics.perClass.map((c, k) => {
    const y0 = top + k * groupHeight;
    const bars = BAR_SERIES.map((s, i) => {
      const value = c[s.key];
      const y = y0 + i * barHeight;
      return (
        `<rect class="bar bar-${s.key}" x="${left}" y="${y}" width="${(value * barWidth).toFixed(1)}" height="${barHeight - 2}" fill="${s.color}" data-value="${value}">` +
        `<title>${s.name}: ${fixed(value)}</title></rect>` +
        `<text class="bar-value" x="${left + value * barWidth + 4}" y="${y + barHeight - 4}">${fixed(value)}</text>`
      );
    }).join('');
    return (
      `<g class="class-bars" data-label="${escapeHtml(c.label)}">` +
      `<text class="axis-label" x="${left - 8}" y="${y0 + (BAR_SERIES.length * barHeight) / 2}" text-anchor="end" dominant-baseline="middle"><title>${escapeHtml(c.label)}</title>${escapeHtml(shorten(c.label, LABEL_CHARS))}</text>` +
      bars +
      `<text class="bar-support" x="${left + barWidth + 60}" y="${y0 + (BAR_SERIES.length * barHeight) / 2}" dominant-baseline="middle">support ${c.support}</text>` +
      `</g>`
    );
  });
  return (
    `<svg id="class-bars" role="img" aria-label="Precision, recall and F1 per class" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    legend +
    `<line x1="${left}" y1="${top - 4}" x2="${left}" y2="${height}" stroke="#8c959f"/>` +
    groups.join('') +
    `</svg>`
  );
}

function perClassTable(metrics: EvaluationMetrics): string {
  const row = (name: string, p: string, r: string, f: string, s: number) =>
    `<tr><th scope="row">${escapeHtml(name)}</th><td>${p}</td><td>${r}</td><td>${f}</td><td>${s}</td></tr>`;
  return (
    `<table class="numbers"><thead><tr><th></th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr></thead><tbody>` +
    metrics.perClass.map((c) => row(c.label, fixed(c.precision), fixed(c.recall), fixed(c.f1), c.support)).join('') +
    `</tbody><tbody class="averages">` +
    row('accuracy', '', '', fixed(metrics.accuracy), metrics.rows) +
    row('macro avg', fixed(metrics.macroAvg.precision), fixed(metrics.macroAvg.recall), fixed(metrics.macroAvg.f1), metrics.rows) +
    row('weighted avg', fixed(metrics.weightedAvg.precision), fixed(metrics.weightedAvg.recall), fixed(metrics.weightedAvg.f1), metrics.rows) +
    `</tbody></table>`
  );
}

/** The random-mode rows' figures: summary cards and the per-class table. */
function randomModeSection(randomMode: NonNullable<HtmlReportInput['randomMode']>): string {
  const m = randomMode.metrics;
  return (
    `<section id="random-mode"><h2>Random-mode rows only</h2><p class="note">${escapeHtml(randomMode.heading)}</p>` +
    `<div class="cards">${card('accuracy', fixed(m.accuracy))}${card('macro F1', fixed(m.macroAvg.f1))}${card('weighted F1', fixed(m.weightedAvg.f1))}${card('rows', String(m.rows))}${card('misclassified', String(m.rows - m.correct))}</div>` +
    `${perClassTable(m)}</section>`
  );
}

const card = (name: string, value: string) => `<div class="card"><div class="value">${value}</div><div class="name">${name}</div></div>`;

function misclassifiedSection(input: HtmlReportInput): string {
  const total = input.misclassified.length;
  if (total === 0) return `<h2>Misclassified rows</h2><p id="misclassified-none">No row is misclassified.</p>`;
  // Confident mistakes first: they point at label noise or at what the model learnt wrong.
  const shown = [...input.misclassified].sort((a, b) => b.score - a.score).slice(0, input.maxExamples);
  const rows = shown.map(
    (m) =>
      `<tr class="misclassified-row"><td class="where">${escapeHtml(m.where)}</td><td>${escapeHtml(m.gold)}</td>` +
      `<td>${escapeHtml(m.predicted)}</td><td class="num">${fixed(m.score)}</td><td class="log">${escapeHtml(m.text)}</td></tr>`,
  );
  const note = shown.length < total ? `the ${shown.length} most confident of ${total}` : `all ${total}, most confident first`;
  return (
    `<h2>Misclassified rows <span class="note">(${note})</span></h2>` +
    `<table id="misclassified"><thead><tr><th>Row</th><th>Gold</th><th>Predicted</th><th>Score</th><th>Log line</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;margin:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}.note{font-weight:normal;color:#57606a;font-size:14px}
.meta{color:#57606a;font-size:13px;word-break:break-all}
.cards{display:flex;gap:12px;margin:16px 0;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 16px;min-width:130px}
.card .value{font-size:24px;font-weight:600}.card .name{font-size:12px;color:#57606a}
.charts{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
svg text{font-size:12px;fill:#1b1f24}svg .axis-title{font-weight:600}svg .cm-count{text-anchor:middle;dominant-baseline:middle;font-size:14px}
svg .cm-diagonal rect{stroke:#1b1f24;stroke-width:1}
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
.numbers td{text-align:right;font-variant-numeric:tabular-nums}.averages tr:first-child th,.averages tr:first-child td{border-top:2px solid #8c959f}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.where{white-space:nowrap;color:#57606a}
td.log{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
`;

export function renderHtmlReport(input: HtmlReportInput): string {
  const { metrics } = input;
  const left = metrics.labels.filter((l) => !metrics.averagedLabels.includes(l));
  const averagesNote =
    left.length > 0 ? `<p class="note">Averages leave out labels that are neither gold nor predicted: ${escapeHtml(left.join(', '))}.</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>logtriage eval report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>logtriage eval report</h1>
<p class="meta">Labeled file: ${escapeHtml(input.source)}<br>Model: ${escapeHtml(input.model)}<br>Generated ${escapeHtml(input.generatedAt.toISOString())}</p>
<div class="cards">${card('accuracy', fixed(metrics.accuracy))}${card('macro F1', fixed(metrics.macroAvg.f1))}${card('weighted F1', fixed(metrics.weightedAvg.f1))}${card('rows', String(metrics.rows))}${card('misclassified', String(metrics.rows - metrics.correct))}</div>
<div class="charts">
<section><h2>Confusion matrix <span class="note">(shade: share of the gold row)</span></h2>${confusionHeatMap(metrics)}</section>
<section><h2>Per class</h2>${perClassBars(metrics)}${perClassTable(metrics)}${averagesNote}</section>
</div>
${input.randomMode ? randomModeSection(input.randomMode) : ''}
${input.trust ? renderTrustSection(input.trust) : ''}
${misclassifiedSection(input)}
</body>
</html>
`;
}
