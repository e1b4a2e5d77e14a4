// SPDX-License-Identifier: MIT
// `logtriage eval --template-tier` end to end through a real process: the labeled rows are loghub
// lines of few templates, with gold labels chosen here. With no audits (--template-audit 0) the
// tier's labels follow from the grouping alone: every row takes the label the model gives its
// template's first row. The expected agreement and accuracies are computed here from the model's
// own per-row labels (the library, tier off) and TemplateParser's grouping, not from src/evaluation.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/LogClassifier.js';
import { TemplateParser } from '../../src/templates/TemplateParser.js';
import { artifactsDir, loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'eval-template-tier');

interface Row {
  text: string;
  gold: string;
  /** The model's label, tier off. */
  off: string;
  template: string;
}

let labels: string[];
let rows: Row[];
let path: string;

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  // Apache and Proxifier samples have a handful of templates: most rows repeat one.
  const texts: string[] = [];
  for (const name of ['Apache_2k.log', 'Proxifier_2k.log', 'OpenSSH_2k.log']) {
    texts.push(...splitLogLines(readFileSync(join(loghubDir(), name), 'utf8')).filter((l) => l.trim() && l.length < 160).slice(0, 16));
  }
  const clf = await LogClassifier.open(model, { threads: 2 });
  let clear: Array<{ text: string; label: string }>;
  try {
    labels = clf.labels;
    const results = await clf.classifyMany(texts);
    // Only rows whose top two scores are apart, so another batch layout in the CLI cannot flip them.
    clear = texts
      .map((text, i) => ({ text, label: results[i]!.label, scores: Object.values(results[i]!.scores).sort((a, b) => b - a) }))
      .filter(({ scores }) => scores[0]! - scores[1]! > 1e-3);
  } finally {
    await clf.dispose();
  }
  const parser = new TemplateParser();
  // Gold: the model's label for two rows in three, another label for the third.
  rows = clear.map(({ text, label }, i) => ({
    text,
    off: label,
    gold: i % 3 === 0 ? labels[(labels.indexOf(label) + 1) % labels.length]! : label,
    template: parser.add(text).id,
  }));
  path = join(workDir, 'labeled.jsonl');
  writeFileSync(path, rows.map((r) => JSON.stringify({ text: r.text, label: r.gold })).join('\n') + '\n');
}, 120_000);

/** The tier's label per row with no audits: the tier-off label of its template's first row. */
function expectedComparison() {
  const firstLabel = new Map<string, string>();
  let served = 0;
  const on = rows.map((r) => {
    const first = firstLabel.get(r.template);
    if (first === undefined) {
      firstLabel.set(r.template, r.off);
      return r.off;
    }
    served++;
    return first;
  });
  const share = (f: (r: Row, i: number) => boolean) => rows.filter(f).length / rows.length;
  return {
    served,
    templates: firstLabel.size,
    agreement: share((r, i) => on[i] === r.off),
    accuracyOff: share((r) => r.off === r.gold),
    accuracyOn: share((r, i) => on[i] === r.gold),
  };
}

describe('logtriage eval --template-tier', () => {
  it('--json reports the tier against the model on every row: agreement, accuracy both ways, rows served', async () => {
    const expected = expectedComparison();
    // The set must exercise the comparison: rows served, and a tier label that differs from the model's.
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(expected.served).toBeGreaterThanOrEqual(10);
    expect(expected.agreement).toBeLessThan(1);

    const run = await runCli(['eval', path, '--model', model, '--threads', '2', '--json', '--template-audit', '0']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { accuracy: number; templateTier: Record<string, unknown> };
    // The metrics stay the model's on every row.
    expect(report.accuracy).toBeCloseTo(expected.accuracyOff, 12);
    expect(report.templateTier).toEqual({
      audit: 0,
      rows: rows.length,
      agreement: expect.closeTo(expected.agreement, 12),
      servedAgreement: expect.any(Number),
      accuracy: { tierOff: expect.closeTo(expected.accuracyOff, 12), tierOn: expect.closeTo(expected.accuracyOn, 12) },
      servedByTemplate: expected.served,
      modelCallsPerLine: expect.closeTo((rows.length - expected.served) / rows.length, 12),
      audits: 0,
      auditAgreement: null,
      retired: 0,
      templates: expected.templates,
    });
    // Every row the tier disagrees on is a served one.
    const servedAgreement = report.templateTier.servedAgreement as number;
    expect(1 - servedAgreement).toBeCloseTo(((1 - expected.agreement) * rows.length) / expected.served, 12);
  });

  it('prints the comparison after the metrics table; without the flag there is none', async () => {
    const expected = expectedComparison();
    const [tiered, plain] = await Promise.all([
      runCli(['eval', path, '--model', model, '--threads', '1', '--template-tier', '--template-audit', '0']),
      runCli(['eval', path, '--model', model, '--threads', '1']),
    ]);
    expect(tiered.code, tiered.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    const lines = tiered.stdout.split('\n');
    expect(lines).toContain('Template tier (audit 0) against the model on every row');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^same label as tier off +${expected.agreement.toFixed(3)}$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^accuracy, tier on +${expected.accuracyOn.toFixed(3)}$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^served by templates +${expected.served} `)));
    // The metrics before it are those of the run without the tier.
    expect(tiered.stdout.startsWith(plain.stdout)).toBe(true);
    expect(plain.stdout).not.toContain('Template tier');
  });

  it('with every later line audited, nothing is served and every row keeps the model\'s label', async () => {
    const run = await runCli(['eval', path, '--model', model, '--threads', '2', '--json', '--template-audit', '1']);
    expect(run.code, run.stderr).toBe(0);
    const tier = (JSON.parse(run.stdout) as { templateTier: { audits: number; servedByTemplate: number; agreement: number; auditAgreement: number; modelCallsPerLine: number } }).templateTier;
    // Every later line is audited: nothing is served, every row has the model's own label.
    expect(tier.servedByTemplate).toBe(0);
    expect(tier.modelCallsPerLine).toBe(1);
    // Each later line is an audit, unless its template was retired by then (then it is the model's anyway).
    expect(tier.audits).toBeGreaterThan(0);
    expect(tier.audits).toBeLessThanOrEqual(rows.length - expectedComparison().templates);
    expect(tier.agreement).toBe(1);
    expect(tier.auditAgreement).toBeGreaterThanOrEqual(0);
  });
});
