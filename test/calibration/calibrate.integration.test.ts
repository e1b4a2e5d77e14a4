// SPDX-License-Identifier: MIT
// Calibration against a known answer. The parity model's logits on real loghub lines are taken as
// they are, and gold labels are drawn from softmax(logits / T*) (or softmax(a*·z + b*)) with a
// seeded PRNG: the fit must recover T* (a*, b*), lower the ECE, and `logtriage calibrate` must
// write a GGUF whose scores are the calibrated ones, whose argmax is unchanged by temperature
// scaling, and whose tensor bytes are the source's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateLogits } from '../../src/calibration/applyCalibration.js';
import { computeCalibrationMetrics } from '../../src/calibration/calibrationMetrics.js';
import { fitCalibration } from '../../src/calibration/fitCalibration.js';
import { fitTemperature } from '../../src/calibration/fitTemperature.js';
import { fitVectorScaling } from '../../src/calibration/fitVectorScaling.js';
import { LogClassifier } from '../../src/LogClassifier.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { softmax } from '../../src/engine/scores.js';
import { artifactsDir, loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';
import { drawCategorical, seededRandom } from '../helpers/seededRandom.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'calibrate');
const LINES_PER_FILE = 24;
/** Labels drawn per line: 240 distinct lines × 60 draws = 14,400 labeled samples. */
const DRAWS = 60;
/** Each CLI run starts node, loads the model and classifies: slow on a shared machine. */
const CLI_MS = 300_000;
const cli = (args: string[]) => runCli(args, undefined, CLI_MS);

let lines: string[];
let logits: number[][];
let labels: string[];

/** Every line's logits `draws` times, each with a label drawn from `probsOf(logits)`. */
function drawLabels(probsOf: (z: number[]) => number[], draws: number, seed: number): { rows: number[][]; gold: number[]; text: string[] } {
  const random = seededRandom(seed);
  const rows: number[][] = [];
  const gold: number[] = [];
  const text: string[] = [];
  for (let d = 0; d < draws; d++) {
    logits.forEach((z, i) => {
      rows.push(z);
      gold.push(drawCategorical(probsOf(z), random));
      text.push(lines[i]!);
    });
  }
  return { rows, gold, text };
}

function writeLabeled(name: string, text: readonly string[], gold: readonly number[]): string {
  const path = join(workDir, name);
  writeFileSync(path, text.map((t, i) => `${JSON.stringify({ text: t, label: labels[gold[i]!] })}\n`).join(''));
  return path;
}

beforeAll(async () => {
  mkdirSync(workDir, { recursive: true });
  // Short lines from every system: varied logits at a small classification cost.
  lines = loghubFiles().flatMap((f) => splitLogLines(readFileSync(f, 'latin1')).filter((l) => l.trim().length > 0 && l.length < 160).slice(0, LINES_PER_FILE));
  const clf = await LogClassifier.open(model, { threads: 2 });
  try {
    labels = clf.labels;
    logits = (await clf.classifyMany(lines)).map((r) => r.logits);
  } finally {
    await clf.dispose();
  }
  expect(lines).toHaveLength(10 * LINES_PER_FILE);
});

describe('temperature scaling on the parity model’s loghub logits', () => {
  it.each([0.5, 1.5, 3])('recovers T* = %s within 5 percent and lowers the ECE', (truth) => {
    const { rows, gold } = drawLabels((z) => softmax(z.map((v) => v / truth)), DRAWS, Math.round(truth * 100));
    expect(rows).toHaveLength(240 * DRAWS);
    const fit = fitCalibration(rows, gold, labels, 'temperature');
    const t = (fit.record.calibration as { temperature: number }).temperature;
    expect(Math.abs(t / truth - 1)).toBeLessThan(0.05);
    expect(fit.after.ece).toBeLessThan(fit.before.ece);
    expect(fit.after.nll).toBeLessThan(fit.before.nll);
    expect(fit.after.accuracy).toBe(fit.before.accuracy);
  });
});

describe('vector scaling on the parity model’s loghub logits', () => {
  it('recovers a* within 5% and b* within 0.05, and lowers the ECE', () => {
    const scale = [0.6, 1.4, 1, 0.8, 1.2];
    const bias = [0.3, -0.2, 0.1, -0.4, 0.2];
    const { rows, gold } = drawLabels((z) => softmax(z.map((v, k) => scale[k]! * v + bias[k]!)), DRAWS, 42);
    const fit = fitVectorScaling(rows, gold, labels.length);
    fit.scale.forEach((a, k) => expect(Math.abs(a / scale[k]! - 1), `scale[${k}] = ${a}`).toBeLessThan(0.05));
    fit.bias.forEach((b, k) => expect(Math.abs(b - bias[k]!), `bias[${k}] = ${b}`).toBeLessThan(0.05));
    const before = computeCalibrationMetrics(rows.map((z) => softmax(z)), gold);
    const after = computeCalibrationMetrics(rows.map((z) => softmax(calibrateLogits(z, { method: 'vector', ...fit }))), gold);
    expect(after.ece).toBeLessThan(before.ece);
  });
});

async function tensorBytes(path: string): Promise<Map<string, Buffer>> {
  const header = await readGgufHeader(path);
  const fh = await open(path, 'r');
  try {
    const out = new Map<string, Buffer>();
    for (const t of header.tensors) {
      const buf = Buffer.alloc(t.byteSize);
      await fh.read(buf, 0, t.byteSize, header.dataOffset + t.offset);
      out.set(t.name, buf);
    }
    return out;
  } finally {
    await fh.close();
  }
}

describe('logtriage calibrate', () => {
  it('writes a temperature-calibrated GGUF: same tensor bytes, calibrated scores, same labels', { timeout: 3 * CLI_MS }, async () => {
    const { rows, gold, text } = drawLabels((z) => softmax(z.map((v) => v / 2)), 5, 7);
    const file = writeLabeled('t2.jsonl', text, gold);
    const output = join(workDir, 't2.gguf');
    const run = await cli(['calibrate', file, '--model', model, '-o', output, '--threads', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { calibration: { method: string; temperature: number }; before: { accuracy: number; nll: number; ece: number }; after: { accuracy: number; nll: number; ece: number }; output: string };
    // The CLI's fit is the library's on the same labels (logits agree to float rounding across batchings).
    expect(report.calibration.method).toBe('temperature');
    expect(report.calibration.temperature).toBeCloseTo(fitTemperature(rows, gold).temperature, 6);
    expect(report.after.accuracy).toBe(report.before.accuracy);
    expect(report.after.nll).toBeLessThan(report.before.nll);
    expect(report.output).toBe(output);

    const [source, copy] = await Promise.all([tensorBytes(model), tensorBytes(output)]);
    expect(copy.size).toBe(source.size);
    expect(copy.size).toBeGreaterThan(10);
    for (const [name, bytes] of source) expect(copy.get(name)!.equals(bytes), name).toBe(true);

    const calibrated = await LogClassifier.open(output, { threads: 2 });
    const raw = await LogClassifier.open(output, { threads: 2, calibration: 'none' });
    try {
      const stored = Math.fround(report.calibration.temperature);
      expect(calibrated.info.calibration).toEqual({ method: 'temperature', temperature: stored });
      expect(raw.info.calibration).toBeNull();
      const sample = lines.slice(0, 40);
      const [a, b] = await Promise.all([calibrated.classifyMany(sample), raw.classifyMany(sample)]);
      expect(a).toHaveLength(40);
      expect(b).toHaveLength(40);
      a.forEach((r, i) => {
        expect(r.label).toBe(b[i]!.label);
        expect(r.logits).toEqual(b[i]!.logits);
        const expected = softmax(r.logits.map((z) => z / stored));
        labels.forEach((l, k) => expect(r.scores[l]).toBeCloseTo(expected[k]!, 6));
        labels.forEach((l) => expect(b[i]!.scores[l]).toBeCloseTo(softmax(r.logits)[labels.indexOf(l)]!, 6));
      });
    } finally {
      await Promise.all([calibrated.dispose(), raw.dispose()]);
    }

    const info = await cli(['info', output, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const described = JSON.parse(info.stdout) as { model: { calibration: { calibration: { method: string }; lines: number } } };
    expect(described.model.calibration.calibration.method).toBe('temperature');
    expect(described.model.calibration.lines).toBe(rows.length);
    const text2 = await cli(['info', output]);
    expect(text2.stdout).toMatch(/calibration\s+temperature scaling, T = /);
  });

  it('writes a vector-scaled GGUF whose scores are softmax(scale·z + bias)', { timeout: CLI_MS }, async () => {
    const { gold, text } = drawLabels((z) => softmax(z.map((v, k) => [0.6, 1.4, 1, 0.8, 1.2][k]! * v)), 5, 8);
    const file = writeLabeled('vector.jsonl', text, gold);
    const output = join(workDir, 'vector.gguf');
    const run = await cli(['calibrate', file, '--model', model, '-o', output, '--method', 'vector', '--threads', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { calibration } = JSON.parse(run.stdout) as { calibration: { method: 'vector'; scale: number[]; bias: number[] } };
    const clf = await LogClassifier.open(output, { threads: 2 });
    try {
      const results = await clf.classifyMany(lines.slice(0, 20));
      expect(results).toHaveLength(20);
      for (const r of results) {
        const expected = softmax(r.logits.map((z, k) => Math.fround(calibration.scale[k]!) * z + Math.fround(calibration.bias[k]!)));
        labels.forEach((l, k) => expect(r.scores[l]).toBeCloseTo(expected[k]!, 6));
        expect(r.label).toBe(labels[expected.indexOf(Math.max(...expected))]);
      }
    } finally {
      await clf.dispose();
    }
  });

  it('refuses too few lines per label with a CalibrationError', { timeout: CLI_MS }, async () => {
    const few = writeLabeled('few.jsonl', lines.slice(0, 12), lines.slice(0, 12).map((_, i) => i % 5));
    const tooFew = await cli(['calibrate', few, '--model', model, '-o', join(workDir, 'x.gguf'), '--threads', '2']);
    expect(tooFew.code).toBe(1);
    expect(tooFew.stderr).toMatch(/CalibrationError: Too few labeled lines to calibrate: each label present needs at least 20 lines; short: Normal \(3\)/);
  });

  it('refuses unknown labels with a ValidationError', { timeout: CLI_MS }, async () => {
    const unknown = join(workDir, 'unknown.jsonl');
    writeFileSync(unknown, `${JSON.stringify({ text: lines[0], label: 'Catastrophic' })}\n`);
    const badLabel = await cli(['calibrate', unknown, '--model', model, '--threads', '2']);
    expect(badLabel.code).toBe(2);
    expect(badLabel.stderr).toContain('gold label "Catastrophic" is not a label of the model');
  });

  it('refuses separable labels (T → 0) and an unknown method', { timeout: 2 * CLI_MS }, async () => {
    // Gold = the model's own top label: every line is right, so T → 0.
    const own = writeLabeled('own.jsonl', lines, logits.map((z) => z.indexOf(Math.max(...z))));
    const separable = await cli(['calibrate', own, '--model', model, '-o', join(workDir, 'y.gguf'), '--threads', '2', '--min-per-label', '1']);
    expect(separable.code).toBe(1);
    expect(separable.stderr).toContain('CalibrationError: No finite temperature fits');

    const badMethod = await cli(['calibrate', own, '--model', model, '--method', 'platt']);
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toContain("argument 'platt' is invalid");
  });
});
