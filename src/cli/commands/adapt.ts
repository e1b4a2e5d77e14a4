// SPDX-License-Identifier: MIT
// `logtriage adapt <labeled.jsonl | labeled.csv> --model M -o out.gguf [--holdout 0.2 | --folds 5] [--l2 λ]`:
// fits a new linear head on the model's frozen hidden states (embed()) of labeled lines, compares
// it with the current head on held-out lines, and writes a copy of the model with the new head and
// labels, its provenance (`logtriage.adapt.*`) and a fresh content digest (tensor bytes copied
// unchanged). A calibration fitted for the old head is dropped. Everything that can be checked
// before the model loads is (flags, the file, labels, counts, the split); nothing is written on
// any error, nor when the new head is worse on the held-out lines (unless --force).
import type { Writable } from 'node:stream';
import { setAdaptedHead, type AdaptBaseline, type AdaptRecord, type HeldOutFigures } from '../../gguf/adaptKeys.js';
import { adaptLabels } from '../../adapt/adaptLabels.js';
import { compareHeads, isWorse } from '../../adapt/compareHeads.js';
import { hashFile } from '../../adapt/hashFile.js';
import { describeValidation, splitHeldOut, type Validation } from '../../adapt/splitHeldOut.js';
import { LogClassifier } from '../../LogClassifier.js';
import { AdaptError } from '../../errors.js';
import type { LabeledRunFlags } from '../../evaluation/classifyLabeledRows.js';
import { readLabeledRows } from '../../evaluation/readLabeledRows.js';
import { copyGguf } from '../../gguf/copyGguf.js';
import { readModelMeta } from '../../gguf/readModelMeta.js';
import { resolveModel } from '../../hub/index.js';
import { adaptOptionsSchema, DEFAULT_ADAPT_HOLDOUT, parseOptions, type OpenOptions } from '../../options.js';
import { checkOutputFolder } from '../checkOutputFolder.js';

// Lines handed to embed() per call: keeps the queue far below its admission limit.
const CHUNK_ROWS = 256;

export interface AdaptCliOptions extends LabeledRunFlags {
  model?: string;
  output: string;
  holdout?: number;
  folds?: number;
  l2?: number;
  minPerLabel?: number;
  newLabels?: boolean;
  force?: boolean;
  json?: boolean;
  /** From the model flags (modelFlags.ts CALIBRATE_FLAGS): how lines are tokenized and decoded. */
  open: OpenOptions;
}

/** What `adapt` prints (`--json`) and returns. */
export interface AdaptReport {
  output: string;
  labels: string[];
  /** True when the labels are the file's, not the model's. */
  newLabelSet: boolean;
  /** The model's labels before. */
  baseLabels: string[];
  linesPerLabel: number[];
  validation: string;
  heldOutLines: number;
  baseline: AdaptBaseline;
  before: HeldOutFigures;
  after: HeldOutFigures;
  /** True when the new head was worse on the held-out lines and --force wrote it. */
  forced: boolean;
  l2: number;
  iterations: number[];
  /** CPU milliseconds of the fits (hidden states not counted). */
  fitCpuMs: number;
  /** True when the base model's calibration was dropped. */
  droppedCalibration: boolean;
  baseSha256: string;
  date: string;
}

async function hiddenStates(clf: LogClassifier, texts: readonly string[]): Promise<Float32Array> {
  const d = clf.info.nEmbd;
  const x = new Float32Array(texts.length * d);
  for (let start = 0; start < texts.length; start += CHUNK_ROWS) {
    const states = await clf.embed(texts.slice(start, start + CHUNK_ROWS));
    states.forEach((h, i) => x.set(h, (start + i) * d));
  }
  return x;
}

function formatReport(r: AdaptReport): string {
  const f = (x: number) => x.toFixed(4).padStart(14);
  const perLabel = r.labels.map((l, k) => `${l} ${r.linesPerLabel[k]}`).join(', ');
  const baseline = r.baseline === 'chance' ? 'chance' : 'current head';
  const row = (name: string, pick: (h: HeldOutFigures) => number) => `${name.padEnd(10)}${f(pick(r.before))}${f(pick(r.after))}`;
  return [
    r.newLabelSet ? `labels: ${r.labels.length}, new (the model had ${r.baseLabels.join(', ')}): the baseline is chance` : `labels: the model's ${r.labels.length}`,
    `lines: ${r.linesPerLabel.reduce((a, b) => a + b, 0)} (${perLabel}); held out: ${r.heldOutLines} (${r.validation}, by distinct text)`,
    '',
    `${''.padEnd(10)}${baseline.padStart(14)}${'new head'.padStart(14)}`,
    row('accuracy', (h) => h.accuracy),
    row('macro-F1', (h) => h.macroF1),
    row('NLL', (h) => h.nll),
    '',
    `fit: L2 ${r.l2}, ${r.iterations.join(' + ')} L-BFGS iterations, ${(r.fitCpuMs / 1000).toFixed(2)} s CPU (hidden states not counted)`,
    `written to ${r.output}${r.forced ? ' (--force: the new head is worse on the held-out lines)' : ''}`,
    '',
  ].join('\n');
}

export async function adaptCommand(file: string, options: AdaptCliOptions, out: Writable = process.stdout): Promise<AdaptReport> {
  const fit = parseOptions(
    adaptOptionsSchema,
    Object.fromEntries(Object.entries({ holdout: options.holdout, folds: options.folds, l2: options.l2, minPerLabel: options.minPerLabel, newLabels: options.newLabels, force: options.force }).filter(([, v]) => v !== undefined)),
    'adapt options',
  );
  const modelPath = resolveModel(options.model);
  await checkOutputFolder(options.output, '--output');
  const rows = await readLabeledRows(file, { textField: options.textField, labelField: options.labelField, format: options.format });
  const meta = await readModelMeta(modelPath);
  const { labels, gold, sameAsModel, linesPerLabel } = adaptLabels(rows, meta.labels, file, fit);
  const validation: Validation = fit.folds !== undefined ? { folds: fit.folds } : { holdout: fit.holdout ?? DEFAULT_ADAPT_HOLDOUT };
  const texts = rows.map((r) => r.text);
  const splits = splitHeldOut(texts, gold, labels, validation);

  const baseSha256 = hashFile(modelPath);
  // Awaited after the fit; a read error meanwhile must not surface as an unhandled rejection.
  baseSha256.catch(() => {});
  // Hidden states do not depend on calibration; 'none' keeps open() from reading one it will not use.
  const clf = await LogClassifier.open(modelPath, { ...options.open, calibration: 'none' });
  let x: Float32Array;
  try {
    x = await hiddenStates(clf, texts);
  } finally {
    await clf.dispose();
  }
  const current = sameAsModel ? { head: meta.head, calibration: meta.calibration?.calibration } : undefined;
  const comparison = compareHeads(x, gold, labels, splits, { l2: fit.l2, current });
  const worse = isWorse(comparison.after, comparison.before);
  const f = (v: number) => v.toFixed(4);
  if (worse && !fit.force) {
    throw new AdaptError(
      `The new head is worse than the ${comparison.baseline} on ${comparison.heldOutLines} held-out lines ` +
        `(macro-F1 ${f(comparison.before.macroF1)} → ${f(comparison.after.macroF1)}, NLL ${f(comparison.before.nll)} → ${f(comparison.after.nll)}); ` +
        `nothing written (--force writes it anyway)`,
    );
  }
  const record: AdaptRecord = {
    date: new Date().toISOString(),
    baseSha256: await baseSha256,
    validation: describeValidation(validation),
    l2: fit.l2,
    linesPerLabel,
    heldOutLines: comparison.heldOutLines,
    baseline: comparison.baseline,
    before: comparison.before,
    after: comparison.after,
  };
  let droppedCalibration = false;
  await copyGguf(modelPath, options.output, {
    editMetadata: (metadata) => {
      droppedCalibration = setAdaptedHead(metadata, { labels, weight: comparison.head.weight, bias: comparison.head.bias, record }).droppedCalibration;
    },
  });
  if (droppedCalibration) {
    process.stderr.write(`the base model's calibration (fitted for its old head) was dropped, not applied to the new head: run \`logtriage calibrate\` on ${options.output}\n`);
  }
  const report: AdaptReport = {
    output: options.output,
    labels,
    newLabelSet: !sameAsModel,
    baseLabels: [...meta.labels],
    linesPerLabel,
    validation: record.validation,
    heldOutLines: record.heldOutLines,
    baseline: record.baseline,
    before: record.before,
    after: record.after,
    forced: worse,
    l2: fit.l2,
    iterations: comparison.iterations,
    fitCpuMs: comparison.fitCpuMs,
    droppedCalibration,
    baseSha256: record.baseSha256,
    date: record.date,
  };
  out.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report;
}
