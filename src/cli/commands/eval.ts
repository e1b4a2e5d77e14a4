// SPDX-License-Identifier: MIT
// `logtriage eval <labeled.jsonl | labeled.csv> --model model.gguf`: classifies every labeled row
// through the library and prints accuracy, F1 and the confusion matrix (a table, or JSON with
// --json) on stdout; --report also writes the HTML report. A file that mixes rows `label --mode
// random` chose with other rows also gets the figures of the random rows alone (randomModeRows.ts).
// With --template-tier the rows are classified twice, the model on every row and then through the
// template tier, and the tier's agreement with the model and accuracy both ways follow the metrics
// (which are the model's).
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { describeCalibration } from '../../calibration/applyCalibration.js';
import { argmax, computeCalibrationMetrics, type CalibrationMetrics } from '../../calibration/calibrationMetrics.js';
import { COVERAGE_TABLE_THRESHOLDS, coverageAt, coverageCurve, thresholdForPrecision, type CoveragePoint, type ThresholdFit } from '../../calibration/selectiveClassification.js';
import { parsePrecisionTargets, thresholdsFileFrom, writeThresholdsFile } from '../../calibration/thresholdsFile.js';
import { ValidationError } from '../../errors.js';
import { checkOutputFolder } from '../checkOutputFolder.js';
import { escapeTerminalText, terminalJson } from '../output/escapeTerminal.js';
import { classifyLabeledRows, readRowsAndOpen } from '../../evaluation/classifyLabeledRows.js';
import { compareTemplateTier, formatTemplateTierComparison, type TemplateTierComparison } from '../../evaluation/compareTemplateTier.js';
import { LogClassifier } from '../../LogClassifier.js';
import { formatCalibrationFigures, formatCoverageTable, formatThresholdFits } from '../../evaluation/formatTrustTables.js';
import { readModelMeta } from '../../gguf/readModelMeta.js';
import { resolveModel } from '../../hub/index.js';
import { computeMetrics, type EvaluationMetrics } from '../../evaluation/metrics.js';
import { formatMetricsTable } from '../../evaluation/formatMetricsTable.js';
import { randomModeRows } from '../../evaluation/randomModeRows.js';
import { LABELED_FORMATS, type LabeledFormat } from '../../evaluation/readLabeledRows.js';
import { renderHtmlReport, type MisclassifiedRow } from '../../evaluation/renderHtmlReport.js';
import { resolveGoldLabels } from '../../evaluation/resolveGoldLabels.js';
import { templateTierOptionsSchema, type OpenOptions } from '../../options.js';

/** `--format` choices. */
export { LABELED_FORMATS };

/** The flags of `logtriage eval`, as commander parses them. */
export interface EvalCliOptions {
  /** GGUF path or pulled hub repo id; undefined: the pulled default model. */
  model?: string;
  textField: string;
  labelField: string;
  format?: LabeledFormat;
  /** Longest row read (bytes); a longer one is refused. */
  maxLineBytes?: number;
  json?: boolean;
  report?: string;
  maxExamples: number;
  /** From the model flags (modelFlags.ts ENGINE_FLAGS). */
  open: OpenOptions;
  /** `Malicious=0.95,Error=0.9`: per label, the lowest alert threshold reaching that precision. */
  targetPrecision?: string;
  /** Writes the thresholds found for --target-precision here (read back by classify/serve --thresholds). */
  thresholdsOut?: string;
}

/** What `eval --json` prints: the metrics, then calibration and selective-classification figures. */
export interface EvalReport extends EvaluationMetrics {
  calibration: CalibrationMetrics & { applied: string };
  /** Accuracy and coverage at the review thresholds of the table. */
  selective: CoveragePoint[];
  targetPrecision?: ThresholdFit[];
  /** With --template-tier: the tier against the model on every row. */
  templateTier?: TemplateTierComparison;
  /**
   * When the file mixes rows `label --mode random` chose with other rows: the metrics and
   * calibration of the random rows alone (a uniform sample: the unbiased estimate).
   */
  randomMode?: RandomModeReport;
}

/** The figures of the random-mode rows alone. */
export interface RandomModeReport extends EvaluationMetrics {
  calibration: CalibrationMetrics & { applied: string };
}

/** What the random-mode figures are, where the table and the report show them. */
export function randomModeHeading(randomRows: number, allRows: number): string {
  return (
    `Random-mode rows only: ${randomRows} of ${allRows} rows. \`label --mode random\` chose them uniformly among the log's templates, ` +
    `so these figures are unbiased over templates (each counts once, however often it occurs); the other rows (e.g. least certain first) over-represent hard lines.`
  );
}

export async function evalCommand(file: string, options: EvalCliOptions, out: Writable = process.stdout): Promise<EvalReport> {
  if (options.thresholdsOut !== undefined && options.targetPrecision === undefined) {
    throw new ValidationError('--thresholds-out needs --target-precision (the targets the thresholds are found for)');
  }
  if (options.thresholdsOut !== undefined) await checkOutputFolder(options.thresholdsOut, '--thresholds-out');
  if (options.report !== undefined) await checkOutputFolder(options.report, '--report');
  const modelPath = resolveModel(options.model);
  // The targets name the model's labels, which its GGUF header has: checked before the model loads.
  const targets = options.targetPrecision === undefined ? [] : parsePrecisionTargets(options.targetPrecision, (await readModelMeta(modelPath)).labels);
  // The metrics are always the model's on every row: with --template-tier that run comes first.
  const tierOptions = options.open.templateTier;
  const { rows, clf } = await readRowsAndOpen(file, modelPath, options, { ...options.open, templateTier: false });
  const labels = clf.labels;
  const calibration = clf.info.calibration;
  let gold: number[];
  let results: Awaited<ReturnType<typeof classifyLabeledRows>>;
  try {
    // Every gold label is checked before the first (slow) classification.
    gold = resolveGoldLabels(rows, labels, file);
    results = await classifyLabeledRows(clf, rows);
  } finally {
    await clf.dispose();
  }
  let tier: TemplateTierComparison | undefined;
  if (tierOptions !== undefined && tierOptions !== false) {
    const tiered = await LogClassifier.open(modelPath, options.open);
    try {
      const tieredResults = await classifyLabeledRows(tiered, rows);
      const audit = templateTierOptionsSchema.parse(tierOptions).audit;
      tier = compareTemplateTier(gold, labels, results, tieredResults, tiered.stats().templateTier!, audit);
    } finally {
      await tiered.dispose();
    }
  }

  const probs = results.map((r) => labels.map((l) => r.scores[l]!));
  const predicted = probs.map(argmax);
  const misclassified: MisclassifiedRow[] = [];
  predicted.forEach((p, i) => {
    if (p !== gold[i]) misclassified.push({ where: rows[i]!.where, text: rows[i]!.text, gold: labels[gold[i]!]!, predicted: labels[p]!, score: results[i]!.score });
  });
  const metrics = computeMetrics(labels, gold, predicted);
  const applied = describeCalibration(calibration ?? undefined);
  const calibrationMetrics = computeCalibrationMetrics(probs, gold);
  const topScores = results.map((r) => r.score);
  const correct = predicted.map((p, i) => p === gold[i]);
  const selective = coverageAt(topScores, correct, COVERAGE_TABLE_THRESHOLDS);
  const fits = targets.map((t) => thresholdForPrecision(predicted, topScores, gold, labels.indexOf(t.label), t));
  const randomRows = randomModeRows(rows);
  const randomMode: RandomModeReport | undefined = randomRows && {
    ...computeMetrics(labels, randomRows.map((i) => gold[i]!), randomRows.map((i) => predicted[i]!)),
    calibration: { ...computeCalibrationMetrics(randomRows.map((i) => probs[i]!), randomRows.map((i) => gold[i]!)), applied },
  };
  const report: EvalReport = {
    ...metrics,
    calibration: { ...calibrationMetrics, applied },
    selective,
    ...(fits.length > 0 ? { targetPrecision: fits } : {}),
    ...(randomMode ? { randomMode } : {}),
    ...(tier !== undefined ? { templateTier: tier } : {}),
  };
  const randomTable = randomMode
    ? `\n${randomModeHeading(randomMode.rows, rows.length)}\n\n${formatMetricsTable(randomMode)}${formatCalibrationFigures(randomMode.calibration, applied)}`
    : '';
  out.write(
    options.json
      ? `${terminalJson(report, 2)}\n`
      : escapeTerminalText(
          formatMetricsTable(metrics) +
            formatCalibrationFigures(calibrationMetrics, applied) +
            formatCoverageTable(selective) +
            (fits.length > 0 ? formatThresholdFits(fits) : '') +
            randomTable +
            (tier !== undefined ? formatTemplateTierComparison(tier) : ''),
        ),
  );
  if (options.thresholdsOut !== undefined) {
    await writeThresholdsFile(options.thresholdsOut, thresholdsFileFrom(fits, calibration));
    process.stderr.write(escapeTerminalText(`thresholds written to ${options.thresholdsOut}\n`));
  }
  if (options.report) {
    const html = renderHtmlReport({
      metrics,
      misclassified,
      maxExamples: options.maxExamples,
      source: file,
      model: modelPath,
      generatedAt: new Date(),
      trust: { calibration: calibrationMetrics, applied, selective, curve: coverageCurve(topScores, correct), fits },
      ...(randomMode ? { randomMode: { metrics: randomMode, heading: randomModeHeading(randomMode.rows, rows.length) } } : {}),
    });
    await writeFile(options.report, html);
    process.stderr.write(escapeTerminalText(`report written to ${options.report}\n`));
  }
  return report;
}
