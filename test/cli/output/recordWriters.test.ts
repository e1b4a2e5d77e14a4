// SPDX-License-Identifier: MIT
// The --format writers on hand-made records: CSV parses back with a real RFC 4180 parser and
// neutralises formulas, the table escapes hostile text, JSON Lines keeps values exact.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ClassifiedLine, RecordWriterOptions } from '../../../src/cli/output/recordTypes.js';
import { createRecordWriter } from '../../../src/cli/output/recordWriter.js';

const labels = ['Normal', 'Suspicious', 'Malicious'];
const options: RecordWriterOptions = { labels, scores: true, text: true, terminal: false, color: false, manyInputs: true };

function record(text: string, line: number, label = 'Normal'): ClassifiedLine {
  const scores = { Normal: 0.2, Suspicious: 0.3, Malicious: 0.5 };
  return { file: 'app.log', line, text, label, score: scores[label as keyof typeof scores], scores, flags: [], truncated: false, readAt: new Date(0) };
}

const texts = [
  '=HYPERLINK("http://evil.example","click")',
  '+cmd|" /C calc"!A0',
  '-2+3',
  '@SUM(A1:A2)',
  '\tleading tab',
  'plain, with "quotes", commas\tand a tab',
  'ＷＩＤＥ ＝ not a formula? ＝1+1',
  'multi\nline',
];

describe('csvWriter', () => {
  it('writes RFC 4180 CSV that parses back, header once, CRLF records', () => {
    const writer = createRecordWriter('csv', options);
    const csv = writer.write(texts.slice(0, 4).map((t, i) => record(t, i + 1))) + writer.write(texts.slice(4).map((t, i) => record(t, i + 5, 'Malicious')));
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parse(csv, { columns: true, relax_quotes: false }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(texts.length);
    expect(Object.keys(rows[0]!)).toEqual(['file', 'line', 'label', 'score', 'score_Normal', 'score_Suspicious', 'score_Malicious', 'text', 'flags', 'truncated']);
    expect(rows.map((r) => Number(r.line))).toEqual(texts.map((_, i) => i + 1));
    expect(rows[4]!.label).toBe('Malicious');
    expect(Number(rows[4]!.score_Malicious)).toBe(0.5);
  });

  it('neutralises cells a spreadsheet would run as formulas and keeps the rest verbatim', () => {
    const csv = createRecordWriter('csv', options).write(texts.map((t, i) => record(t, i + 1)));
    const rows = parse(csv, { columns: true }) as Array<Record<string, string>>;
    const text = rows.map((r) => r.text);
    for (const i of [0, 1, 2, 3, 4]) expect(text[i]).toBe(`'${texts[i]}`);
    expect(text[5]).toBe(texts[5]);
    expect(text[7]).toBe(texts[7]); // quoted, so the newline stays inside the cell
  });

  it('neutralises a formula after leading blanks and in every segment another separator would split off', () => {
    const hostile: Array<[string, string]> = [
      [' =1+1', "' =1+1"],
      ['\u00a0 @SUM(A1)', "'\u00a0 @SUM(A1)"],
      ['x;=cmd|" /C calc"!A0', 'x;\'=cmd|" /C calc"!A0'],
      ['a, b,  +1', "a, b,'  +1"],
      ['user\t-2+3', "user\t'-2+3"],
      ['ok\n=HYPERLINK("http://evil.example")', 'ok\n\'=HYPERLINK("http://evil.example")'],
      ['a;b, c = d', 'a;b, c = d'],
    ];
    const csv = createRecordWriter('csv', options).write(hostile.map(([t], i) => record(t, i + 1)));
    const rows = parse(csv, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.text)).toEqual(hostile.map(([, guarded]) => guarded));
  });
});

describe('tableWriter', () => {
  it('escapes control sequences in the text and prints a header once', () => {
    const writer = createRecordWriter('table', { ...options, scores: false });
    const out = writer.write([record('title \u001b]0;pwned\u0007 and \u001b[31mred\b\b', 7)]) + writer.write([record('second', 8)]);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u);
    expect(out).toContain('title \\x1b]0;pwned\\x07 and \\x1b[31mred\\b\\b');
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^FILE:LINE\s+LABEL\s+SCORE\s+TEXT$/);
    expect(lines[1]).toMatch(/^app\.log:7\s+Normal\s+0\.200\s+title /);
  });
});

describe('tableWriter review and alert columns', () => {
  it('adds REVIEW and ALERT columns only when asked, one yes/no per record', () => {
    const reviewed = [
      { ...record('unsure', 1), review: true, alert: false },
      { ...record('sure', 2, 'Malicious'), review: false, alert: true },
    ];
    const both = createRecordWriter('table', { ...options, scores: false, manyInputs: false, review: true, alerts: true }).write(reviewed).trimEnd().split('\n');
    expect(both).toHaveLength(3);
    expect(both[0]).toMatch(/^LINE\s+LABEL\s+SCORE\s+REVIEW\s+ALERT\s+TEXT$/);
    expect(both[1]).toMatch(/^1\s+Normal\s+0\.200\s+yes\s+no\s+unsure$/);
    expect(both[2]).toMatch(/^2\s+Malicious\s+0\.500\s+no\s+yes\s+sure$/);
    const reviewOnly = createRecordWriter('table', { ...options, scores: false, manyInputs: false, review: true }).write(reviewed).trimEnd().split('\n');
    expect(reviewOnly[0]).toMatch(/^LINE\s+LABEL\s+SCORE\s+REVIEW\s+TEXT$/);
    expect(reviewOnly[1]).toMatch(/^1\s+Normal\s+0\.200\s+yes\s+unsure$/);
    const neither = createRecordWriter('table', { ...options, scores: false, manyInputs: false }).write(reviewed);
    expect(neither).not.toMatch(/REVIEW|ALERT|yes/);
  });
});

describe('jsonlWriter', () => {
  it('writes one parseable object per record with the asked-for fields', () => {
    const r = { ...record('a\u009bb', 3), flags: ['invalid-utf8'], truncated: true };
    const out = createRecordWriter('jsonl', { ...options, scores: false }).write([r]);
    expect(out).not.toMatch(/\u009b/u);
    expect(JSON.parse(out)).toEqual({ file: 'app.log', line: 3, label: 'Normal', score: 0.2, text: 'a\u009bb', flags: ['invalid-utf8'], truncated: true });
  });
});

describe('jsonlWriter with --template-tier', () => {
  it('adds via and template_id when the record has them, and nothing otherwise', () => {
    const writer = createRecordWriter('jsonl', { ...options, scores: false, text: false });
    const [served, plain] = writer
      .write([{ ...record('a', 1), via: 'template', templateId: '44a2bdfe' }, record('b', 2)])
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(served).toEqual({ file: 'app.log', line: 1, label: 'Normal', score: 0.2, via: 'template', template_id: '44a2bdfe' });
    expect(Object.keys(plain!)).toEqual(['file', 'line', 'label', 'score']);
  });
});

describe('csv, table and ecs writers with --template-tier', () => {
  const tiered = [{ ...record('served', 1), via: 'template' as const, templateId: '44a2bdfe' }, { ...record('first', 2, 'Malicious'), via: 'model' as const, templateId: '0c1d2e3f-2' }];

  it('CSV gets via and template_id columns only with the tier', () => {
    const rows = parse(createRecordWriter('csv', { ...options, scores: false, templateTier: true }).write(tiered), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['file', 'line', 'label', 'score', 'text', 'flags', 'truncated', 'via', 'template_id']);
    expect(rows.map((r) => [r.via, r.template_id])).toEqual([['template', '44a2bdfe'], ['model', '0c1d2e3f-2']]);
    const plain = parse(createRecordWriter('csv', { ...options, scores: false }).write(tiered), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(plain[0]!)).not.toContain('via');
  });

  it('the table gets VIA and TEMPLATE columns, aligned, only with the tier', () => {
    const lines = createRecordWriter('table', { ...options, scores: false, manyInputs: false, review: true, templateTier: true }).write(tiered).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LINE\s+LABEL\s+SCORE\s+REVIEW\s+VIA\s+TEMPLATE\s+TEXT$/);
    expect(lines[1]!.split(/\s+/)).toEqual(['1', 'Normal', '0.200', 'no', 'template', '44a2bdfe', 'served']);
    expect(lines[2]!.split(/\s+/)).toEqual(['2', 'Malicious', '0.500', 'no', 'model', '0c1d2e3f-2', 'first']);
    // The text column starts at the same place on every row.
    expect(new Set(lines.slice(1).map((l) => l.lastIndexOf('  ') + 2)).size).toBe(1);
    expect(lines[0]!.indexOf('TEXT')).toBe(lines[1]!.indexOf('served'));
    expect(createRecordWriter('table', { ...options, scores: false }).write(tiered)).not.toContain('VIA');
  });

  it('ECS documents carry logtriage.via and logtriage.template_id when the record has them', () => {
    const [served, first] = createRecordWriter('ecs', { ...options, scores: false, templateTier: true }).write(tiered).trimEnd().split('\n').map((l) => JSON.parse(l) as { logtriage: Record<string, unknown> });
    expect(served!.logtriage).toMatchObject({ label: 'Normal', via: 'template', template_id: '44a2bdfe' });
    expect(first!.logtriage).toMatchObject({ label: 'Malicious', via: 'model', template_id: '0c1d2e3f-2' });
    const plain = JSON.parse(createRecordWriter('ecs', { ...options, scores: false }).write([record('x', 3)])) as { logtriage: Record<string, unknown> };
    expect(Object.keys(plain.logtriage)).not.toContain('via');
    expect(Object.keys(plain.logtriage)).not.toContain('template_id');
  });
});
