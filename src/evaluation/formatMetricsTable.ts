// SPDX-License-Identifier: MIT
// The terminal form of the metrics: a per-class table laid out like scikit-learn's
// classification_report, then the confusion matrix with gold labels down and predictions across.
import type { EvaluationMetrics } from './metrics.js';

const fixed = (x: number): string => x.toFixed(3);

export function formatMetricsTable(metrics: EvaluationMetrics): string {
  const { labels, perClass, confusionMatrix, rows } = metrics;
  const nameWidth = Math.max('weighted avg'.length, ...labels.map((l) => l.length));
  const col = 10;
  const line = (name: string, cells: string[]) => `${name.padStart(nameWidth)}${cells.map((c) => c.padStart(col)).join('')}`;

  const out: string[] = [];
  out.push(line('', ['precision', 'recall', 'f1-score', 'support']), '');
  for (const c of perClass) out.push(line(c.label, [fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support)]));
  out.push('');
  out.push(line('accuracy', ['', '', fixed(metrics.accuracy), String(rows)]));
  for (const [name, avg] of [['macro avg', metrics.macroAvg], ['weighted avg', metrics.weightedAvg]] as const) {
    out.push(line(name, [fixed(avg.precision), fixed(avg.recall), fixed(avg.f1), String(rows)]));
  }
  if (metrics.averagedLabels.length < labels.length) {
    const left = labels.filter((l) => !metrics.averagedLabels.includes(l));
    out.push('', `Averages leave out labels that are neither gold nor predicted: ${left.join(', ')}`);
  }

  const cellWidth = Math.max(...labels.map((l) => l.length), String(rows).length) + 2;
  out.push('', 'Confusion matrix (rows: gold label, columns: predicted label)');
  out.push(`${''.padStart(nameWidth)}${labels.map((l) => l.padStart(cellWidth)).join('')}`);
  confusionMatrix.forEach((counts, g) => {
    out.push(`${labels[g]!.padStart(nameWidth)}${counts.map((n) => String(n).padStart(cellWidth)).join('')}`);
  });
  return `${out.join('\n')}\n`;
}
