// SPDX-License-Identifier: MIT
// The HTML report as text: hostile strings escaped, nothing that could load from a network,
// and chart parts that match the metrics. test/cli/eval.integration.test.ts renders it in Chromium.
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/evaluation/metrics.js';
import { renderHtmlReport, type MisclassifiedRow } from '../../src/evaluation/renderHtmlReport.js';

const HOSTILE = '<script>alert(1)</script><img src="http://192.0.2.1/x.png" onerror=\'fetch("//192.0.2.1")\'>\u001b]0;owned\u0007 & \u202Efdp.exe';

describe('renderHtmlReport()', () => {
  const labels = ['Normal', 'Error', 'Bad<Label>'];
  const metrics = computeMetrics(labels, [0, 0, 1, 1, 2, 2], [0, 1, 1, 0, 0, 2]);
  const misclassified: MisclassifiedRow[] = [
    { where: 'line 2', text: 'low confidence', gold: 'Normal', predicted: 'Error', score: 0.41 },
    { where: 'line 4', text: HOSTILE, gold: 'Error', predicted: 'Normal', score: 0.93 },
    { where: 'line 5', text: 'middle', gold: 'Bad<Label>', predicted: 'Normal', score: 0.6 },
  ];
  const render = (maxExamples: number) =>
    renderHtmlReport({ metrics, misclassified, maxExamples, source: 'set "<x>".jsonl', model: 'm.gguf', generatedAt: new Date(0) });
  const html = render(10);

  it('leaves no way to run script or reach the network', () => {
    const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((t) => /^<(script|img|image|link|iframe|object|embed|use|a)\b/i.test(t) || /\b(src|href|on\w+)=|url\(|:\/\//i.test(t))).toEqual([]);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=&quot;http');
    expect(html).toContain('\\x1b]0;owned\\x07 &amp; \\u{202e}fdp.exe');
    expect(html).toContain('set &quot;&lt;x&gt;&quot;.jsonl');
    expect(html).not.toContain('Bad<Label>');
  });

  it('shows the random-mode rows apart only when given them, with their own figures', () => {
    expect(html).not.toContain('id="random-mode"');
    const random = computeMetrics(labels, [0, 2], [0, 0]);
    const withRandom = renderHtmlReport({
      metrics, misclassified, maxExamples: 10, source: 's.jsonl', model: 'm.gguf', generatedAt: new Date(0),
      randomMode: { metrics: random, heading: 'Random-mode rows only: 2 of 6 rows <b>' },
    });
    const section = /<section id="random-mode">(.*?)<\/section>/s.exec(withRandom)?.[1];
    expect(section).toBeDefined();
    expect(section).toContain('Random-mode rows only: 2 of 6 rows &lt;b&gt;');
    const cards = [...section!.matchAll(/<div class="value">([^<]*)<\/div><div class="name">([^<]*)<\/div>/g)].map((m) => [m[2], m[1]]);
    expect(Object.fromEntries(cards)).toEqual({ accuracy: '0.500', 'macro F1': random.macroAvg.f1.toFixed(3), 'weighted F1': random.weightedAvg.f1.toFixed(3), rows: '2', misclassified: '1' });
    // Its per-class table: the support of each label among the random rows only.
    expect([...section!.matchAll(/<tr><th scope="row">([^<]*)<\/th>(?:<td>[^<]*<\/td>){3}<td>(\d+)<\/td><\/tr>/g)].slice(0, 3).map((m) => [m[1], Number(m[2])])).toEqual([
      ['Normal', 1],
      ['Error', 0],
      ['Bad&lt;Label&gt;', 1],
    ]);
  });

  it('has one heat-map cell per matrix entry and one bar group per class', () => {
    const cells = [...html.matchAll(/<g class="cm-cell[^"]*" data-gold="([^"]*)" data-predicted="([^"]*)" data-count="(\d+)">/g)];
    expect(cells).toHaveLength(9);
    expect(cells.map((c) => Number(c[3]))).toEqual(metrics.confusionMatrix.flat());
    expect(cells[6]!.slice(1, 3)).toEqual(['Bad&lt;Label&gt;', 'Normal']);
    expect(html.match(/<g class="class-bars"/g)).toHaveLength(3);
    expect(html.match(/<rect class="bar bar-(precision|recall|f1)"/g)).toHaveLength(9);
  });

  it('lists misclassified rows most confident first, up to maxExamples', () => {
    const order = (h: string) => [...h.matchAll(/<tr class="misclassified-row"><td class="where">([^<]*)</g)].map((m) => m[1]);
    expect(order(html)).toEqual(['line 4', 'line 5', 'line 2']);
    expect(html).toContain('(all 3, most confident first)');
    const capped = render(2);
    expect(order(capped)).toEqual(['line 4', 'line 5']);
    expect(capped).toContain('(the 2 most confident of 3)');
  });

  it('says so when nothing is misclassified', () => {
    const perfect = renderHtmlReport({
      metrics: computeMetrics(labels, [0, 1], [0, 1]),
      misclassified: [],
      maxExamples: 10,
      source: 's.jsonl',
      model: 'm.gguf',
      generatedAt: new Date(0),
    });
    expect(perfect).toContain('No row is misclassified.');
    expect(perfect).not.toContain('misclassified-row');
    expect(perfect).toContain('Averages leave out labels that are neither gold nor predicted: Bad&lt;Label&gt;.');
  });
});
