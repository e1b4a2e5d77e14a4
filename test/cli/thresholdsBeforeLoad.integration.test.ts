// SPDX-License-Identifier: MIT
// `classify`/`serve --thresholds` check the file against the model's GGUF header before
// llama.cpp loads anything: a spy on LogClassifier.open shows a bad file never reaches it, and
// a good one does (the spy rejects, so no model is loaded either way). `eval --target-precision`,
// `--thresholds-out`, `--report` and `calibrate -o` are checked before the load the same way.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { readThresholdsForModel } from '../../src/calibration/readThresholdsForModel.js';
import { LogClassifier } from '../../src/LogClassifier.js';
import { calibrateCommand } from '../../src/cli/commands/calibrate.js';
import { classifyCommand, type ClassifyCommandOptions } from '../../src/cli/commands/classify.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { ModelLoadError, ValidationError } from '../../src/errors.js';
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

describe('readThresholdsForModel', () => {
  it('reads labels and calibration from the GGUF header', async () => {
    const ok = file('ok.json', { version: 1, calibration: 'none', thresholds: { malicious: 0.9, Error: 0.8 } });
    expect([...(await readThresholdsForModel(ok, model, undefined))]).toEqual([['Malicious', 0.9], ['Error', 0.8]]);
    const temperature = file('temperature.json', { version: 1, calibration: 'temperature', thresholds: { Error: 0.8 } });
    expect([...(await readThresholdsForModel(temperature, calibrated, 'auto'))]).toEqual([['Error', 0.8]]);
    // calibration: 'none' ignores the model's calibration, so a file set on raw scores fits it.
    expect([...(await readThresholdsForModel(ok, calibrated, 'none'))]).toHaveLength(2);
  });

  it.each<[string, unknown, string, 'auto' | 'none' | undefined, RegExp]>([
    ['unknown label', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } }, 'f32', undefined, /names label 'Catastrophic', which this model does not have; its labels are: Normal, Suspicious, Malicious, Informational, Error/],
    ['calibrated model, raw-score file', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } }, 'calibrated', 'auto', /calibration 'none', but this classifier applies 'temperature'/],
    ['uncalibrated model, calibrated file', { version: 1, calibration: 'vector', thresholds: { Error: 0.5 } }, 'f32', undefined, /calibration 'vector', but this classifier applies 'none'/],
    ['calibration ignored', { version: 1, calibration: 'temperature', thresholds: { Error: 0.5 } }, 'calibrated', 'none', /calibration 'temperature', but this classifier applies 'none'/],
    ['out of range', { version: 1, calibration: 'none', thresholds: { Error: 2 } }, 'f32', undefined, /thresholds\.Error/],
  ])('refuses %s with a ValidationError', async (name, value, which, calibration, message) => {
    const path = file(`${name.replaceAll(/\W/g, '-')}.json`, value);
    const err = await readThresholdsForModel(path, which === 'f32' ? model : calibrated, calibration).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
  });

  it('names a missing model as open() does', async () => {
    const ok = file('ok2.json', { version: 1, calibration: 'none', thresholds: {} });
    await expect(readThresholdsForModel(ok, join(workDir, 'missing.gguf'), undefined)).rejects.toThrow(ModelLoadError);
  });
});

describe('--thresholds is checked before the model loads', () => {
  it('classify: a bad file never reaches LogClassifier.open, a good one does', async () => {
    const open = vi.spyOn(LogClassifier, 'open').mockRejectedValue(new OpenReached());
    const bad = file('bad-classify.json', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } });
    await expect(classifyCommand([inputFile], classifyOptions(model, bad), io())).rejects.toThrow(ValidationError);
    expect(open).toHaveBeenCalledTimes(0);
    const good = file('good-classify.json', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } });
    await expect(classifyCommand([inputFile], classifyOptions(model, good), io())).rejects.toThrow(OpenReached);
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('serve: a bad file never reaches LogClassifier.open, a good one does', async () => {
    const open = vi.spyOn(LogClassifier, 'open').mockRejectedValue(new OpenReached());
    const serve = (thresholds: string) => serveCommand({ model: calibrated, thresholds, host: '127.0.0.1', port: 0, open: {}, autoTruncate: true, logLevel: 'silent' });
    await expect(serve(file('bad-serve.json', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } }))).rejects.toThrow(/calibration 'none', but this classifier applies 'temperature'/);
    expect(open).toHaveBeenCalledTimes(0);
    await expect(serve(file('good-serve.json', { version: 1, calibration: 'temperature', thresholds: { Error: 0.5 } }))).rejects.toThrow(OpenReached);
    expect(open).toHaveBeenCalledTimes(1);
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
