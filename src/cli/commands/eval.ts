// SPDX-License-Identifier: MIT
// `logtriage eval <labeled.jsonl | labeled.csv> --model model.gguf`: classifies every labeled row
// through the library and prints accuracy, F1 and the confusion matrix (a table, or JSON with
// --json) on stdout; --report also writes the HTML report.
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { LogClassifier } from '../../classifier.js';
import { resolveModel } from '../../hub/index.js';
import { computeMetrics, type EvaluationMetrics } from '../../evaluation/metrics.js';
import { formatMetricsTable } from '../../evaluation/formatMetricsTable.js';
import { LABELED_FORMATS, readLabeledRows, type LabeledFormat } from '../../evaluation/readLabeledRows.js';
import { renderHtmlReport, type MisclassifiedRow } from '../../evaluation/renderHtmlReport.js';
import { resolveGoldLabels } from '../../evaluation/resolveGoldLabels.js';
import type { OpenOptions } from '../../options.js';

/** `--format` choices. */
export { LABELED_FORMATS };

/** The flags of `logtriage eval`, as commander parses them. */
export interface EvalCliOptions {
  /** GGUF path or pulled hub repo id; undefined: the pulled default model. */
  model?: string;
  textField: string;
  labelField: string;
  format?: LabeledFormat;
  json?: boolean;
  report?: string;
  maxExamples: number;
  /** From the model flags (modelFlags.ts ENGINE_FLAGS). */
  open: OpenOptions;
}

// Rows handed to the library per call: keeps the queue far below its admission limit.
const CHUNK_ROWS = 256;

export async function evalCommand(file: string, options: EvalCliOptions, out: Writable = process.stdout): Promise<EvaluationMetrics> {
  const modelPath = resolveModel(options.model);
  const rows = await readLabeledRows(file, {
    textField: options.textField,
    labelField: options.labelField,
    format: options.format,
  });
  const clf = await LogClassifier.open(modelPath, options.open);
  const labels = clf.labels;
  const predicted: number[] = [];
  const misclassified: MisclassifiedRow[] = [];
  let gold: number[];
  try {
    // Every gold label is checked before the first (slow) classification.
    gold = resolveGoldLabels(rows, labels, file);
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const chunk = rows.slice(start, start + CHUNK_ROWS);
      const results = await clf.classifyMany(chunk.map((r) => r.text));
      results.forEach((result, i) => {
        const index = start + i;
        const p = labels.indexOf(result.label);
        predicted.push(p);
        if (p !== gold[index]) {
          const row = rows[index]!;
          misclassified.push({ where: row.where, text: row.text, gold: labels[gold[index]!]!, predicted: result.label, score: result.score });
        }
      });
    }
  } finally {
    await clf.dispose();
  }

  const metrics = computeMetrics(labels, gold, predicted);
  out.write(options.json ? `${JSON.stringify(metrics, null, 2)}\n` : formatMetricsTable(metrics));
  if (options.report) {
    const html = renderHtmlReport({ metrics, misclassified, maxExamples: options.maxExamples, source: file, model: modelPath, generatedAt: new Date() });
    await writeFile(options.report, html);
    process.stderr.write(`report written to ${options.report}\n`);
  }
  return metrics;
}
