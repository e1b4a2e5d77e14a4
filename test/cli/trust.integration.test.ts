// SPDX-License-Identifier: MIT
// Review flags and alert thresholds end to end: `eval --target-precision` on a labeled set whose
// answer is known by construction, the thresholds file it writes read back by `classify
// --thresholds`, and `classify --review-min-score` filters, checked against the library's scores.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { ValidationError } from '../../src/errors.js';
import { artifactsDir, loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'trust-cli');
const CLI_MS = 300_000;
const cli = (args: string[], stdin?: string) => runCli(args, stdin, CLI_MS);

let lines: string[];
let results: ClassificationResult[];
let labels: string[];
/** The label predicted most often: its top half by score is gold, the rest is not. */
let reachable: string;
/** The second most predicted label: its top-scoring line is not gold, so precision 1 is unreachable. */
let unreachable: string;
let alerting: string[];
let threshold: number;
let labeledPath: string;

beforeAll(async () => {
  mkdirSync(workDir, { recursive: true });
  lines = loghubFiles().flatMap((f) => splitLogLines(readFileSync(f, 'latin1')).filter((l) => l.trim().length > 0 && l.length < 160).slice(0, 8));
  const clf = await LogClassifier.open(model, { threads: 2 });
  try {
    labels = clf.labels;
    results = await clf.classifyMany(lines);
  } finally {
    await clf.dispose();
  }
  const byCount = labels.map((l) => [l, results.filter((r) => r.label === l).length] as const).sort((a, b) => b[1] - a[1]);
  reachable = byCount[0]![0];
  unreachable = byCount[1]![0];
  const other = (label: string) => labels.find((l) => l !== label)!;
  const gold = results.map((r) => r.label);
  const ranked = (label: string) => results.map((r, i) => i).filter((i) => results[i]!.label === label).sort((a, b) => results[b]!.score - results[a]!.score);
  const mine = ranked(reachable);
  const keep = Math.ceil(mine.length / 2);
  mine.slice(keep).forEach((i) => (gold[i] = other(reachable)));
  alerting = mine.slice(0, keep).map((i) => lines[i]!);
  threshold = results[mine[keep - 1]!]!.score;
  gold[ranked(unreachable)[0]!] = other(unreachable);
  labeledPath = join(workDir, 'labeled.jsonl');
  writeFileSync(labeledPath, lines.map((text, i) => `${JSON.stringify({ text, label: gold[i] })}\n`).join(''));
  expect(lines).toHaveLength(80);
  expect(mine.length).toBeGreaterThan(2);
  expect(ranked(unreachable).length).toBeGreaterThan(0);
});

describe('eval --target-precision and classify --thresholds', () => {
  it('finds the known threshold, reports the unreachable target, and classify alerts exactly above it', { timeout: 3 * CLI_MS }, async () => {
    const thresholdsPath = join(workDir, 'alerts.json');
    const reportPath = join(workDir, 'report.html');
    const run = await cli(['eval', labeledPath, '--model', model, '--threads', '2', '--json', '--target-precision', `${reachable}=1,${unreachable.toLowerCase()}=1`, '--thresholds-out', thresholdsPath, '--report', reportPath]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { targetPrecision: unknown[]; calibration: { ece: number; bins: Array<{ count: number }> }; selective: Array<{ threshold: number; covered: number }> };
    expect(report.targetPrecision).toEqual([
      { label: reachable, target: 1, threshold, precision: 1, recall: 1, alerts: alerting.length, support: alerting.length },
      expect.objectContaining({ label: unreachable, target: 1, threshold: null }),
    ]);
    expect(report.calibration.bins).toHaveLength(15);
    expect(report.calibration.bins.reduce((n, b) => n + b.count, 0)).toBe(lines.length);
    expect(report.selective[0]).toEqual(expect.objectContaining({ threshold: 0, covered: lines.length }));
    const file = JSON.parse(readFileSync(thresholdsPath, 'utf8')) as { thresholds: Record<string, number>; calibration: string };
    expect(file.thresholds).toEqual({ [reachable]: threshold });
    expect(file.calibration).toBe('none');

    const html = readFileSync(reportPath, 'utf8');
    expect(html.match(/class="count-bar"/g)).toHaveLength(15);
    expect(html).toContain('id="coverage-curve"');
    expect(html.match(/class="fit-row"/g)).toHaveLength(2);

    const table = await cli(['eval', labeledPath, '--model', model, '--threads', '2', '--target-precision', `${unreachable}=1`]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${unreachable}\\s+1\\.000\\s+unreachable \\(best precision`));
    expect(table.stdout).toMatch(/Calibration \(scores: none\): NLL \d/);

    const classified = await cli(['classify', '--model', model, '--threads', '2', '--thresholds', thresholdsPath, '--only-alerts', '--text', '-q'], `${lines.join('\n')}\n`);
    expect(classified.code, classified.stderr).toBe(0);
    const records = classified.stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string; alert: boolean; label: string; score: number });
    expect(records.map((r) => r.text).sort()).toEqual([...alerting].sort());
    expect(records.every((r) => r.alert && r.label === reachable && r.score >= threshold)).toBe(true);
  });
});

describe('classify review flags', () => {
  it('marks review by score and filters with --only-review / --no-review', { timeout: 2 * CLI_MS }, async () => {
    const minScore = [...results.map((r) => r.score)].sort((a, b) => a - b)[Math.floor(lines.length / 2)]!;
    const input = `${lines.join('\n')}\n`;
    const only = await cli(['classify', '--model', model, '--threads', '2', '--review-min-score', String(minScore), '--only-review', '-q'], input);
    const none = await cli(['classify', '--model', model, '--threads', '2', '--review-min-score', String(minScore), '--no-review', '--format', 'ecs', '-q'], input);
    expect(only.code, only.stderr).toBe(0);
    expect(none.code, none.stderr).toBe(0);
    const flagged = only.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; review: boolean });
    const expected = results.map((r, i) => (r.score < minScore ? i + 1 : 0)).filter((n) => n > 0);
    expect(flagged.map((r) => r.line)).toEqual(expected);
    expect(flagged.every((r) => r.review)).toBe(true);
    const kept = none.stdout.trim().split('\n').map((l) => JSON.parse(l) as { logtriage: { review: boolean } });
    expect(kept).toHaveLength(lines.length - expected.length);
    expect(kept.every((d) => d.logtriage.review === false)).toBe(true);
  });

  it('refuses bad review and threshold flags before loading the model', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--only-review'], /--only-review needs --review-min-score or --review-min-margin/],
      [['--review-min-score', '0.5', '--only-review', '--no-review'], /--only-review and --no-review exclude each other/],
      [['--review-min-margin', '1.5'], /expected a probability from 0 to 1, got '1.5'/],
      [['--only-alerts'], /--only-alerts needs --thresholds/],
      [['--calibration', 'maybe'], /argument 'maybe' is invalid/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(['classify', '--model', model, ...args], 'x\n');
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    const evalRun = await cli(['eval', labeledPath, '--model', model, '--thresholds-out', join(workDir, 'x.json')]);
    expect(evalRun.code).toBe(2);
    expect(evalRun.stderr).toContain('--thresholds-out needs --target-precision');
  }, CLI_MS);
});

describe('LogClassifier review and calibration options', () => {
  it.each<[unknown, RegExp]>([
    [{ review: { minScore: 2 } }, /Expected a number of at most 1 for LogClassifier.open\(\) options.review.minScore but received 2/],
    [{ review: { minscore: 0.5 } }, /Unknown option 'minscore' \(did you mean 'minScore'\?\) for LogClassifier.open\(\) options.review; known options: minScore, minMargin/],
    [{ review: 0.5 }, /Expected a object for LogClassifier.open\(\) options.review/],
    [{ calibration: 'on' }, /Expected one of "auto", "none" for LogClassifier.open\(\) options.calibration/],
  ])('open() refuses %j', async (options, message) => {
    const err = await LogClassifier.open(model, options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
  });

  it('classify() options.review overrides open()’s, and never changes the label', async () => {
    const clf = await LogClassifier.open(model, { threads: 2, review: { minScore: 1 } });
    try {
      const [a] = await clf.classifyMany([lines[0]!]);
      const [b] = await clf.classifyMany([lines[0]!], { review: { minMargin: 0 } });
      expect(a!.review).toBe(true);
      expect(b!.review).toBe(false);
      expect(a!.label).toBe(b!.label);
      expect(clf.info.review).toEqual({ minScore: 1 });
      await expect(clf.classifyMany([lines[0]!], { review: { minMargin: -1 } })).rejects.toThrow(/classify options.review.minMargin/);
    } finally {
      await clf.dispose();
    }
  });
});
