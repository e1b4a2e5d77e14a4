// SPDX-License-Identifier: MIT
// Alert thresholds (open()'s `alertThresholds`, `classify`/`serve --thresholds`) are checked
// against the model's GGUF header before llama.cpp loads anything. `eval --target-precision`,
// `--thresholds-out`, `--report` and `calibrate -o` are checked before the load the same way.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { LogClassifier } from '../../src/LogClassifier.js';
import { calibrateCommand } from '../../src/cli/commands/calibrate.js';
import { classifyCommand, type ClassifyCommandOptions } from '../../src/cli/commands/classify.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { ModelLoadError, NativeAddonError, ValidationError } from '../../src/errors.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { artifactsDir, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'thresholds-before-load');
const calibrated = join(workDir, 'calibrated.gguf');
const inputFile = join(workDir, 'lines.log');
const labeledFile = join(workDir, 'labeled.jsonl');
const missingFolder = join(workDir, 'no-such-folder');
const file = (name: string, value: unknown) => {
  const path = join(workDir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

/** Stands in for a model load: reaching it means every pre-load check passed. */
class OpenReached extends Error {}

beforeAll(async () => {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(inputFile, 'sshd[1]: Failed password for root\n');
  writeFileSync(labeledFile, `${JSON.stringify({ text: 'sshd[1]: Failed password for root', label: 'Malicious' })}\n`);
  await copyGguf(model, calibrated, {
    editMetadata: (m) => setCalibration(m, { calibration: { method: 'temperature', temperature: 1.5 }, lines: 100, nllBefore: 1, nllAfter: 0.9, eceBefore: 0.1, eceAfter: 0.05 }),
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const io = () => ({ stdin: new PassThrough(), stdout: Object.assign(new PassThrough(), { isTTY: false }), stderr: Object.assign(new PassThrough(), { isTTY: false }), env: {} });

function classifyOptions(modelPath: string, thresholds: string, open: ClassifyCommandOptions['open'] = {}): ClassifyCommandOptions {
  return { model: modelPath, thresholds, scores: false, text: false, follow: false, quiet: true, color: false, chunkLines: 8, open };
}

// The thresholds are checked after the header read and before anything native loads: with a
// native binding that does not exist, a bad file is a ValidationError and a good one gets as far
// as the binding (NativeAddonError), so no weights are ever read for a wrong file.
const noBinding = join(workDir, 'no-such-addon.node');

describe('LogClassifier.open({ alertThresholds })', () => {
  const thresholds = (calibration: 'none' | 'temperature' | 'vector', values: Record<string, number>) => ({ version: 1 as const, calibration, thresholds: values });

  it('reads labels and calibration from the GGUF header; results carry alert', async () => {
    const clf = await LogClassifier.open(model, { alertThresholds: thresholds('none', { malicious: 0.9, Error: 0.8 }) });
    try {
      expect(clf.info.alertThresholds).toEqual({ Malicious: 0.9, Error: 0.8 });
      const [r] = await clf.classifyMany(['sshd[1]: Failed password for root']);
      expect(r!.alert).toBe(r!.label in clf.info.alertThresholds! && r!.score >= clf.info.alertThresholds![r!.label]!);
    } finally {
      await clf.dispose();
    }
    const plain = await LogClassifier.open(model);
    try {
      expect(plain.info.alertThresholds).toBeNull();
      expect((await plain.classify('sshd[1]: Failed password for root')).alert).toBeUndefined();
    } finally {
      await plain.dispose();
    }
    // calibration: 'none' ignores the model's calibration, so thresholds set on raw scores fit it.
    await expect(LogClassifier.open(calibrated, { calibration: 'none', nativeBinding: noBinding, alertThresholds: thresholds('none', { Error: 0.8 }) })).rejects.toThrow(NativeAddonError);
    await expect(LogClassifier.open(calibrated, { nativeBinding: noBinding, alertThresholds: thresholds('temperature', { Error: 0.8 }) })).rejects.toThrow(NativeAddonError);
  });

  it.each<[string, unknown, string, 'auto' | 'none' | undefined, RegExp]>([
    ['unknown label', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } }, 'f32', undefined, /alertThresholds names label 'Catastrophic', which this model does not have; its labels are: Normal, Suspicious, Malicious, Informational, Error/],
    ['calibrated model, raw-score file', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } }, 'calibrated', 'auto', /calibration 'none', but this classifier applies 'temperature'/],
    ['uncalibrated model, calibrated file', { version: 1, calibration: 'vector', thresholds: { Error: 0.5 } }, 'f32', undefined, /calibration 'vector', but this classifier applies 'none'/],
    ['calibration ignored', { version: 1, calibration: 'temperature', thresholds: { Error: 0.5 } }, 'calibrated', 'none', /calibration 'temperature', but this classifier applies 'none'/],
    ['out of range', { version: 1, calibration: 'none', thresholds: { Error: 2 } }, 'f32', undefined, /alertThresholds\.thresholds\.Error/],
  ])('refuses %s with a ValidationError before anything native loads', async (_name, value, which, calibration, message) => {
    const err = await LogClassifier.open(which === 'f32' ? model : calibrated, {
      nativeBinding: noBinding,
      alertThresholds: value as never,
      ...(calibration ? { calibration } : {}),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
  });

  it('names a missing model as open() does', async () => {
    await expect(LogClassifier.open(join(workDir, 'missing.gguf'), { alertThresholds: thresholds('none', {}) })).rejects.toThrow(ModelLoadError);
  });
});

describe('--thresholds is checked before the model loads', () => {
  it('classify: a bad file is refused before the native binding is needed, a good one gets to it', async () => {
    const bad = file('bad-classify.json', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } });
    await expect(classifyCommand([inputFile], classifyOptions(model, bad, { nativeBinding: noBinding }), io())).rejects.toThrow(/Thresholds file .*bad-classify\.json names label 'Catastrophic'/);
    const good = file('good-classify.json', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } });
    await expect(classifyCommand([inputFile], classifyOptions(model, good, { nativeBinding: noBinding }), io())).rejects.toThrow(NativeAddonError);
  });

  it('serve: a bad file is refused before the native binding is needed, a good one gets to it', async () => {
    const serve = (thresholds: string) =>
      serveCommand({ model: calibrated, thresholds, host: '127.0.0.1', port: 0, open: { nativeBinding: noBinding }, autoTruncate: true, logLevel: 'silent' });
    await expect(serve(file('bad-serve.json', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } }))).rejects.toThrow(/calibration 'none', but this classifier applies 'temperature'/);
    await expect(serve(file('good-serve.json', { version: 1, calibration: 'temperature', thresholds: { Error: 0.5 } }))).rejects.toThrow(NativeAddonError);
  });

  it('the CLI exits 2 with the label error, for classify and serve', async () => {
    const bad = file('bad-cli.json', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } });
    const runs = await Promise.all([
      runCli(['classify', '--model', model, '--thresholds', bad, '-q'], 'x\n'),
      runCli(['serve', '--model', model, '--port', '0', '--thresholds', bad]),
    ]);
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/ValidationError: Thresholds file .* names label 'Catastrophic'/);
    }
  });

  it('the CLI exits 2 for bad trust flag values of serve, calibrate and eval', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--model', model, '--review-min-score', '2'], /option '--review-min-score <p>' argument '2' is invalid\. expected a probability from 0 to 1, got '2'/],
      [['serve', '--model', model, '--review-min-margin', 'x'], /expected a probability from 0 to 1, got 'x'/],
      [['calibrate', labeledFile, '--model', model, '--min-per-label', '0'], /expected a positive integer, got '0'/],
      [['eval', labeledFile, '--model', model, '--target-precision', 'Error=0'], /--target-precision: expected a precision in \(0, 1\] for Error, got '0'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    expect(runs).toHaveLength(cases.length);
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(2);
      expect(run.stderr).toMatch(cases[i]![1]);
    });
  });
});

describe('eval and calibrate flags are checked before the model loads', () => {
  const evalFlags = { model, textField: 'text', labelField: 'label', maxExamples: 10, open: {} };

  it.each<[string, Record<string, string>, RegExp]>([
    ['an unknown target label', { targetPrecision: 'Catastrophic=0.9' }, /--target-precision: unknown label 'Catastrophic'; this model's labels are: Normal, Suspicious, Malicious, Informational, Error/],
    ['a target out of range', { targetPrecision: 'Malicious=1.5' }, /--target-precision: expected a precision in \(0, 1\] for Malicious, got '1.5'/],
    ['a malformed target', { targetPrecision: 'Malicious' }, /--target-precision: expected LABEL=PRECISION pairs/],
    ['--thresholds-out in a missing folder', { targetPrecision: 'Malicious=0.9', thresholdsOut: join(missingFolder, 'alerts.json') }, /--thresholds-out .*: folder .*no-such-folder does not exist/],
    ['--report in a missing folder', { report: join(missingFolder, 'report.html') }, /--report .*: folder .*no-such-folder does not exist/],
  ])('eval refuses %s without loading the model', async (_name, flags, message) => {
    const open = vi.spyOn(LogClassifier, 'open').mockRejectedValue(new OpenReached());
    const err = await evalCommand(labeledFile, { ...evalFlags, ...flags }, new PassThrough()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
    expect(open).toHaveBeenCalledTimes(0);
  });

  it('eval with good flags reaches the load', async () => {
    const open = vi.spyOn(LogClassifier, 'open').mockRejectedValue(new OpenReached());
    await expect(evalCommand(labeledFile, { ...evalFlags, targetPrecision: 'malicious=0.9', thresholdsOut: join(workDir, 'alerts.json') }, new PassThrough())).rejects.toThrow(OpenReached);
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('calibrate refuses -o in a missing folder without loading the model, and reaches the load otherwise', async () => {
    const open = vi.spyOn(LogClassifier, 'open').mockRejectedValue(new OpenReached());
    const flags = { model, textField: 'text', labelField: 'label', method: 'temperature' as const, minPerLabel: 20, open: {} };
    await expect(calibrateCommand(labeledFile, { ...flags, output: join(missingFolder, 'out.gguf') }, new PassThrough())).rejects.toThrow(/--output .*: folder .*no-such-folder does not exist/);
    expect(open).toHaveBeenCalledTimes(0);
    await expect(calibrateCommand(labeledFile, { ...flags, output: join(workDir, 'out.gguf') }, new PassThrough())).rejects.toThrow(OpenReached);
    expect(open).toHaveBeenCalledTimes(1);
  });
});
