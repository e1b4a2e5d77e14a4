// SPDX-License-Identifier: MIT
// `logtriage adapt` on the parity model (F32): with each loghub line's source system as its label,
// a head adapted on 30 lines per system classifies held-out lines far above chance, and the model
// it writes works through info, verify, classify and eval. With the model's own labels the fit
// starts from its head and is compared with it; a worse head is refused unless --force; a
// calibration of the old head is dropped. Bad input is a typed error and writes nothing.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loghubLabeled, type LabeledLine } from '../../scripts/fixtures/loghub-labeled.js';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { LogClassifier } from '../../src/LogClassifier.js';
import { adaptCommand, type AdaptCliOptions, type AdaptReport } from '../../src/cli/commands/adapt.js';
import { AdaptError, ValidationError } from '../../src/errors.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { readModelMeta } from '../../src/gguf/readModelMeta.js';
import { artifactsDir, loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'adapt');
const CLI_MS = 300_000;
const cli = (args: string[]) => runCli(args, undefined, CLI_MS);
const SYSTEMS = 10;

const path = (name: string) => join(workDir, name);
function writeRows(name: string, rows: readonly LabeledLine[]): string {
  writeFileSync(path(name), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return path(name);
}
/** adaptCommand in this process, its table discarded. */
function adapt(file: string, output: string, flags: Partial<AdaptCliOptions> = {}): Promise<AdaptReport> {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  return adaptCommand(file, { model, textField: 'text', labelField: 'label', output, open: { threads: 2 }, ...flags }, sink as never);
}

let train: string;
let heldOut: string;
/** Lines labeled with the model's own predictions: its head is right on every one. */
let selfLabeled: LabeledLine[];

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  loghubDir();
  // Parts 0 and 1 of the distinct lines never share one: the eval set is unseen by the fit.
  train = writeRows('by-system.jsonl', await loghubLabeled({ perSystem: 30, part: 0, parts: 2 }));
  heldOut = writeRows('by-system-eval.jsonl', await loghubLabeled({ perSystem: 20, part: 1, parts: 2 }));
  const candidates = await loghubLabeled({ perSystem: 40, part: 1, parts: 2 });
  const clf = await LogClassifier.open(model, { threads: 2 });
  try {
    const results = await clf.classifyMany(candidates.map((c) => c.text));
    const perLabel = new Map<string, LabeledLine[]>();
    results.forEach((r, i) => perLabel.set(r.label, [...(perLabel.get(r.label) ?? []), { text: candidates[i]!.text, label: r.label }]));
    expect([...perLabel.keys()].sort()).toEqual([...clf.labels].sort());
    selfLabeled = [...perLabel.values()].flatMap((rows) => rows.slice(0, 12));
  } finally {
    await clf.dispose();
  }
}, 600_000);

describe('logtriage adapt, source system as the label (loghub, new label set)', () => {
  let report: AdaptReport;
  const output = () => path('systems.gguf');

  it('reaches a held-out accuracy far above chance with 30 lines per system', async () => {
    const run = await cli(['adapt', train, '--model', model, '-o', output(), '--new-labels', '--threads', '2', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    report = JSON.parse(run.stdout) as AdaptReport;
    expect(report.labels).toEqual(['Apache', 'BGL', 'HDFS', 'HPC', 'Hadoop', 'HealthApp', 'Linux', 'OpenSSH', 'Proxifier', 'Zookeeper']);
    expect(report.newLabelSet).toBe(true);
    expect(report.linesPerLabel).toEqual(Array(SYSTEMS).fill(30));
    expect(report.baseline).toBe('chance');
    expect(report.heldOutLines).toBe(60);
    expect(report.before.accuracy).toBeCloseTo(1 / SYSTEMS, 6);
    // Measured 0.633 (macro-F1 0.628, NLL 1.22 against ln 10 = 2.30): the parity model is a random
    // 2-layer, 64-wide Qwen2, whose last-token states carry little more than the line's last tokens.
    expect(report.after.accuracy).toBeGreaterThanOrEqual(0.45);
    expect(report.after.nll).toBeLessThan(report.before.nll);
    expect(report.forced).toBe(false);
    expect(existsSync(output())).toBe(true);
  }, CLI_MS);

  it('writes a model that info describes with its provenance and verify passes', async () => {
    const info = await cli(['info', output(), '--json']);
    expect(info.code).toBe(0);
    const described = JSON.parse(info.stdout).model;
    expect(described.labels).toEqual(report.labels);
    expect(described.head).toEqual({ shape: [SYSTEMS, 64], bias: true });
    expect(described.adapt).toMatchObject({ baseline: 'chance', validation: 'holdout 0.2', heldOutLines: 60, linesPerLabel: Array(SYSTEMS).fill(30) });
    expect(described.adapt.l2).toBeCloseTo(0.01, 6);
    expect(described.adapt.after.accuracy).toBeCloseTo(report.after.accuracy, 6);
    expect(described.adapt.baseSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(described.adapt.baseSha256).toBe(report.baseSha256);
    const table = await cli(['info', output()]);
    expect(table.stdout).toMatch(/adapt held-out {2}60 lines, chance → new head: accuracy 0\.1000 → /);
    const verify = await cli(['verify', output(), '--json', '--quiet']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).status).toBe('verified');
  }, CLI_MS);

  it('classifies and evaluates with the new labels (unseen lines of every system)', async () => {
    const log = path('openssh-tail.log');
    writeFileSync(log, `${splitLogLines(readFileSync(join(loghubDir(), 'OpenSSH_2k.log'), 'utf8')).slice(-40).join('\n')}\n`);
    const classify = await cli(['classify', log, '--model', output(), '--threads', '2', '--format', 'jsonl', '--quiet']);
    expect(classify.code).toBe(0);
    const labels = classify.stdout.trim().split('\n').map((l) => JSON.parse(l).label as string);
    expect(labels).toHaveLength(40);
    expect(labels.every((l) => report.labels.includes(l))).toBe(true);
    const evaluated = await cli(['eval', heldOut, '--model', output(), '--threads', '2', '--json']);
    expect(evaluated.code).toBe(0);
    const metrics = JSON.parse(evaluated.stdout);
    expect(metrics.rows).toBe(SYSTEMS * 20);
    // Measured 0.686 on 50 unseen lines per system.
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.45);
  }, CLI_MS);
});

describe("logtriage adapt, the model's own labels", () => {
  it('compares with the current head and refuses a worse new head, writing nothing; --force writes it', async () => {
    const file = writeRows('self-labeled.jsonl', selfLabeled);
    const out = path('refused.gguf');
    // A penalty this large leaves the new head little but its biases: worse than a head that is right on every line.
    const refused = await adapt(file, out, { l2: 100 }).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(AdaptError);
    expect((refused as Error).message).toMatch(/worse than the current head on \d+ held-out lines .*nothing written/);
    expect(existsSync(out)).toBe(false);
    const forced = await adapt(file, out, { l2: 100, force: true });
    expect(forced).toMatchObject({ forced: true, baseline: 'current head', newLabelSet: false, droppedCalibration: false });
    expect(forced.before.accuracy).toBe(1);
    expect((await readModelMeta(out)).labels).toEqual((await readModelMeta(model)).labels);
  }, CLI_MS);

  it("drops the base model's calibration (fitted for the old head) and says so", async () => {
    const calibrated = path('calibrated.gguf');
    await copyGguf(model, calibrated, {
      editMetadata: (m) => setCalibration(m, { calibration: { method: 'temperature', temperature: 2 }, lines: 100, nllBefore: 1, nllAfter: 0.9, eceBefore: 0.1, eceAfter: 0.05 }),
    });
    expect((await readModelMeta(calibrated)).calibration).toBeDefined();
    const out = path('recalibrate-me.gguf');
    const report = await adapt(writeRows('self-labeled.jsonl', selfLabeled), out, { model: calibrated, force: true, folds: 3 });
    expect(report.droppedCalibration).toBe(true);
    expect(report.validation).toBe('3 folds');
    expect(report.heldOutLines).toBe(selfLabeled.length);
    const meta = await readModelMeta(out);
    expect(meta.calibration).toBeUndefined();
    expect(meta.adapt?.baseline).toBe('current head');
  }, CLI_MS);
});

describe('logtriage adapt, bad input: a typed error, nothing written', () => {
  const out = () => path('never.gguf');
  const cases: Array<[string, () => Promise<unknown>, new (...args: never[]) => Error, RegExp]> = [
    ['an empty file', () => adapt(writeRows('empty.jsonl', []), out(), { newLabels: true }), ValidationError, /has no labeled rows/],
    [
      'an unknown label',
      () => adapt(writeRows('unknown.jsonl', [...selfLabeled, { text: 'kernel: panic', label: 'Catastrophic' }]), out()),
      AdaptError,
      /gold label "Catastrophic" is not a label of the model/,
    ],
    [
      'a label with too few lines',
      async () => {
        const rows = (await loghubLabeled({ perSystem: 12 })).filter((r, i) => r.label !== 'HPC' || i % 12 < 3);
        return adapt(writeRows('short.jsonl', rows), out(), { newLabels: true });
      },
      AdaptError,
      /each label needs at least 10; "HPC" has 3/,
    ],
    [
      'a label whose lines are one text repeated (copies never straddle train and held-out)',
      async () => {
        const rows = (await loghubLabeled({ perSystem: 12 })).map((r) => (r.label === 'HDFS' ? { ...r, text: 'the same HDFS line' } : r));
        return adapt(writeRows('repeated.jsonl', rows), out(), { newLabels: true });
      },
      AdaptError,
      /Too few distinct lines to hold some out .*"HDFS" has 1/,
    ],
    ["a file labeled for another model's labels", () => adapt(train, out()), AdaptError, /looks labeled for another model/],
    ['holdout and folds together', () => adapt(train, out(), { newLabels: true, holdout: 0.2, folds: 5 }), ValidationError, /either holdout or folds/],
    ['a holdout share of 1.5', () => adapt(train, out(), { newLabels: true, holdout: 1.5 }), ValidationError, /holdout/],
  ];
  it.each(cases)('%s', async (_name, run, type, message) => {
    const error = await run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(existsSync(out())).toBe(false);
  });
  it('collected every case', () => expect(cases).toHaveLength(7));
});
