// SPDX-License-Identifier: MIT
// `logtriage eval` end to end through a real process, and its HTML report rendered in headless
// Chromium. The tiny model's predictions are arbitrary, so the labeled set is built from them: gold
// is the model's own prediction for two rows in three and a different label for the third, and the
// expected metrics are computed here, independently of src/evaluation, from those rows.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/LogClassifier.js';
import { artifactsDir, loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli, type CliRun } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'eval-cli');
const reportPath = join(workDir, 'report.html');
const screenshotPath = join(artifactsDir, 'eval-report.png');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Would load from the network or run script if the report failed to escape it.
const HOSTILE =
  '<script>window.__pwned=1</script><img src="http://192.0.2.1/pixel.png" onerror="window.__pwned=2">' +
  '<link rel=stylesheet href=//192.0.2.1/x.css>\u001b]0;pwned\u0007\u001b[31mRED';

interface Row {
  text: string;
  predicted: string;
  gold: string;
}

/** The metrics by their textbook definitions, zero_division=0, averages over labels seen. */
function expectedMetrics(labels: string[], rows: Row[]) {
  const cm = labels.map(() => labels.map(() => 0));
  for (const r of rows) cm[labels.indexOf(r.gold)]![labels.indexOf(r.predicted)]!++;
  const perClass = labels.map((label, k) => {
    const tp = cm[k]![k]!;
    const support = rows.filter((r) => r.gold === label).length;
    const predicted = rows.filter((r) => r.predicted === label).length;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support, predicted };
  });
  const seen = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const average = (key: 'precision' | 'recall' | 'f1') => ({
    macro: seen.reduce((a, c) => a + c[key], 0) / seen.length,
    weighted: seen.reduce((a, c) => a + c[key] * c.support, 0) / rows.length,
  });
  const [p, r, f] = [average('precision'), average('recall'), average('f1')];
  const correct = rows.filter((row) => row.gold === row.predicted).length;
  return {
    labels,
    rows: rows.length,
    correct,
    accuracy: correct / rows.length,
    averagedLabels: seen.map((c) => c.label),
    macroAvg: { precision: p.macro, recall: r.macro, f1: f.macro },
    weightedAvg: { precision: p.weighted, recall: r.weighted, f1: f.weighted },
    perClass,
    confusionMatrix: cm,
  };
}

/** `expected` with every number compared to 12 decimals. */
function approx(expected: unknown): unknown {
  if (typeof expected === 'number') return expect.closeTo(expected, 12);
  if (Array.isArray(expected)) return expected.map(approx);
  if (expected && typeof expected === 'object') return Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, approx(v)]));
  return expected;
}

const csvCell = (s: string) => `"${s.replaceAll('"', '""')}"`;

let labels: string[];
let rows: Row[];
let jsonlPath: string;
let csvPath: string;
let jsonRun: CliRun;

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const texts = [HOSTILE];
  for (const name of ['Zookeeper_2k.log', 'HPC_2k.log', 'Linux_2k.log']) {
    const lines = splitLogLines(readFileSync(join(loghubDir(), name), 'utf8')).filter((l) => l.trim() && l.length < 160);
    texts.push(...lines.slice(0, 8));
  }
  const clf = await LogClassifier.open(model, { threads: 2 });
  try {
    labels = clf.labels;
    const results = await clf.classifyMany(texts);
    // Only rows whose top two scores are apart, so another batch layout in the CLI cannot flip them.
    const clear = texts
      .map((text, i) => ({ text, result: results[i]! }))
      .filter(({ result }) => {
        const [first, second] = Object.values(result.scores).sort((a, b) => b - a);
        return first! - second! > 1e-3;
      });
    rows = clear.map(({ text, result }, i) => {
      const p = labels.indexOf(result.label);
      const gold = i % 3 === 0 ? labels[(p + 1 + (i % 2)) % labels.length]! : result.label;
      return { text, predicted: result.label, gold };
    });
  } finally {
    await clf.dispose();
  }
  expect(rows[0]!.text).toBe(HOSTILE);
  expect(rows.length).toBeGreaterThanOrEqual(20);
  expect(new Set(rows.map((r) => r.predicted)).size).toBeGreaterThanOrEqual(3);

  jsonlPath = join(workDir, 'labeled.jsonl');
  writeFileSync(jsonlPath, rows.map((r, i) => JSON.stringify({ id: i, text: r.text, label: r.gold })).join('\n') + '\n');
  // Custom column names, gold labels in another case, CRLF records, quoted text with commas.
  csvPath = join(workDir, 'labeled.csv');
  const csvRows = rows.map((r, i) => [String(i), csvCell(r.text), i % 2 ? r.gold.toUpperCase() : r.gold.toLowerCase()].join(','));
  writeFileSync(csvPath, ['id,message,severity', ...csvRows].join('\r\n') + '\r\n');

  jsonRun = await runCli(['eval', jsonlPath, '--model', model, '--threads', '2', '--json', '--report', reportPath]);
});

describe('logtriage eval', () => {
  it('--json prints the metrics computed independently from the rows', () => {
    expect(jsonRun.code, jsonRun.stderr).toBe(0);
    expect(JSON.parse(jsonRun.stdout)).toEqual({ ...(approx(expectedMetrics(labels, rows)) as object), calibration: expect.any(Object), selective: expect.any(Array) });
    expect(jsonRun.stderr).toContain(`report written to ${reportPath}`);
  });

  it('reads CSV with custom column names and gold labels in any case, and prints a table by default', async () => {
    const run = await runCli(['eval', csvPath, '--model', model, '--threads', '2', '--text-field', 'message', '--label-field', 'severity']);
    expect(run.code, run.stderr).toBe(0);
    const expected = expectedMetrics(labels, rows);
    const lines = run.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    expect(lines).toContainEqual(['accuracy', expected.accuracy.toFixed(3), String(rows.length)]);
    for (const [name, avg] of [['macro', expected.macroAvg], ['weighted', expected.weightedAvg]] as const) {
      expect(lines).toContainEqual([name, 'avg', ...[avg.precision, avg.recall, avg.f1].map((x) => x.toFixed(3)), String(rows.length)]);
    }
    for (const c of expected.perClass) {
      expect(lines).toContainEqual([c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), String(c.support)]);
    }
    const matrixAt = lines.findIndex((l) => l.join(' ') === 'Confusion matrix (rows: gold label, columns: predicted label)');
    expect(lines[matrixAt + 1]).toEqual(labels);
    labels.forEach((label, g) => expect(lines[matrixAt + 2 + g]).toEqual([label, ...expected.confusionMatrix[g]!.map(String)]));
  });

  it("reports the rows `label --mode random` chose apart when the file mixes them with others (table, --json, report)", async () => {
    // Even rows random, odd rows uncertain: the random half has its own mistakes (every third row is wrong).
    const mixed = join(workDir, 'mixed-modes.jsonl');
    writeFileSync(mixed, rows.map((r, i) => `${JSON.stringify({ text: r.text, label: r.gold, mode: i % 2 === 0 ? 'random' : 'uncertain' })}\n`).join(''));
    const random = rows.filter((_, i) => i % 2 === 0);
    const mixedReport = join(workDir, 'mixed-report.html');
    const [json, table] = await Promise.all([
      runCli(['eval', mixed, '--model', model, '--threads', '1', '--json', '--report', mixedReport]),
      runCli(['eval', mixed, '--model', model, '--threads', '1']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    // The whole file as before; the random rows alone beside it.
    expect(report).toMatchObject(approx(expectedMetrics(labels, rows)) as object);
    expect(report.randomMode).toEqual({ ...(approx(expectedMetrics(labels, random)) as object), calibration: expect.objectContaining({ lines: random.length }) });
    expect(report.randomMode.accuracy).not.toBe(report.accuracy);

    expect(table.code, table.stderr).toBe(0);
    const [all, apart] = table.stdout.split(/^Random-mode rows only: /m);
    expect(apart).toMatch(new RegExp(`^${random.length} of ${rows.length} rows\\.`));
    const accuracyLine = (text: string) => text.split('\n').map((l) => l.trim().split(/\s+/)).find((l) => l[0] === 'accuracy');
    expect(accuracyLine(all!)).toEqual(['accuracy', report.accuracy.toFixed(3), String(rows.length)]);
    expect(accuracyLine(apart!)).toEqual(['accuracy', report.randomMode.accuracy.toFixed(3), String(random.length)]);
    expect(apart).toContain(`ECE (15 bins) ${report.randomMode.calibration.ece.toFixed(4)}`);

    const section = /<section id="random-mode">(.*?)<\/section>/s.exec(readFileSync(mixedReport, 'utf8'))?.[1];
    expect(section).toContain(`<div class="value">${random.length}</div><div class="name">rows</div>`);
    expect(section).toContain(`<div class="value">${report.randomMode.accuracy.toFixed(3)}</div><div class="name">accuracy</div>`);

    // All rows random, or none: one set of figures, as before.
    const allRandom = join(workDir, 'all-random.jsonl');
    writeFileSync(allRandom, random.map((r) => `${JSON.stringify({ text: r.text, label: r.gold, mode: 'random' })}\n`).join(''));
    const single = await runCli(['eval', allRandom, '--model', model, '--threads', '1', '--json']);
    expect(single.code, single.stderr).toBe(0);
    expect(JSON.parse(single.stdout)).not.toHaveProperty('randomMode');
    expect(JSON.parse(jsonRun.stdout)).not.toHaveProperty('randomMode');
  }, 300_000);

  it('exits 2 naming the row and the valid labels when a gold label is unknown', async () => {
    const path = join(workDir, 'unknown-label.jsonl');
    writeFileSync(path, '{"text":"a","label":"Normal"}\n\n{"text":"b","label":"Bogus"}\n');
    const run = await runCli(['eval', path, '--model', model, '--threads', '2']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`line 3: gold label "Bogus" is not a label of the model; valid labels: ${labels.map((l) => `"${l}"`).join(', ')}`);
  });

  it('exits 2 on usage errors: no labeled file, a bad --format, a missing field', async () => {
    // A missing labeled file is the same ValidationError (test/evaluation/readLabeledRows.test.ts).
    const [noFile, badFormat, noField] = await Promise.all([
      runCli(['eval', '--model', model]),
      runCli(['eval', jsonlPath, '--model', model, '--format', 'xml']),
      runCli(['eval', jsonlPath, '--model', model, '--text-field', 'message']),
    ]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/missing required argument 'labeled-file'/);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/Allowed choices are jsonl, csv/);
    expect(noField.code).toBe(2);
    expect(noField.stderr).toMatch(/line 1: no text field "message" \(fields present: "id", "text", "label"\)/);
  });
});

// A fresh developer machine may lack Chromium: skip there, loudly; under CI=true it is required.
const chromiumMissing = !existsSync(chromiumPath) && process.env.CI !== 'true';
if (chromiumMissing) console.warn(`SKIPPED eval --report browser test: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH; required under CI=true)`);

describe('logtriage eval --report', () => {
  it.skipIf(chromiumMissing)('renders in headless Chromium with the charts and rows of the metrics, and loads nothing', async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium not found at ${chromiumPath}: this test renders the eval report in Debian's chromium package (apt-get install -y chromium), or set CHROMIUM_PATH`);
    }
    expect(jsonRun.code, jsonRun.stderr).toBe(0);
    const metrics = JSON.parse(jsonRun.stdout) as ReturnType<typeof expectedMetrics>;
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'logtriage-chromium-')), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      const url = pathToFileURL(reportPath).href;
      await page.goto(url, { waitUntil: 'load' });

      // These callbacks run in the page; the test tsconfig has no DOM types, hence the casts.
      type Boxed = { getBBox(): { width: number; height: number } };
      const cells = await page.$$eval('#confusion-matrix .cm-cell', (gs) =>
        gs.map((g) => {
          const box = (g.querySelector('rect') as unknown as Boxed).getBBox();
          return { gold: g.getAttribute('data-gold'), predicted: g.getAttribute('data-predicted'), count: Number(g.querySelector('.cm-count')!.textContent), area: box.width * box.height };
        }),
      );
      expect(cells).toHaveLength(labels.length ** 2);
      expect(cells).toEqual(labels.flatMap((gold, g) => labels.map((predicted, p) => ({ gold, predicted, count: metrics.confusionMatrix[g]![p]!, area: expect.any(Number) }))));
      expect(cells.every((c) => c.area > 100)).toBe(true);

      const groups = await page.$$eval('#class-bars .class-bars', (gs) =>
        gs.map((g) => ({
          label: g.getAttribute('data-label'),
          f1Width: (g.querySelector('.bar-f1') as unknown as Boxed).getBBox().width,
          recallWidth: (g.querySelector('.bar-recall') as unknown as Boxed).getBBox().width,
        })),
      );
      expect(groups.map((g) => g.label)).toEqual(labels);
      // Bars are 320 px at 1.0.
      groups.forEach((g, k) => {
        expect(g.f1Width / 320).toBeCloseTo(metrics.perClass[k]!.f1, 2);
        expect(g.recallWidth / 320).toBeCloseTo(metrics.perClass[k]!.recall, 2);
      });

      const misclassified = await page.$$eval('#misclassified tbody tr', (trs) => trs.map((tr) => (tr.querySelector('td.log') as unknown as { innerText: string }).innerText));
      expect(misclassified).toHaveLength(metrics.rows - metrics.correct);
      expect(misclassified.length).toBeGreaterThan(5);
      expect(misclassified).toContain(HOSTILE.replaceAll('\u001b', '\\x1b').replaceAll('\u0007', '\\x07'));
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

      expect(requests).toEqual([url]);
      expect(consoleErrors).toEqual([]);
      await page.screenshot({ path: screenshotPath, fullPage: true });
      expect(statSync(screenshotPath).size).toBeGreaterThan(10_000);
    } finally {
      await context.close();
    }
  });
});
