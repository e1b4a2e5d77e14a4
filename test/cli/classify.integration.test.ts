// SPDX-License-Identifier: MIT
// `logtriage classify` and `logtriage convert` end to end, through a real process on the tiny
// model: formats, filters, stdin/gzip, terminal safety and exit codes on small samples (the full
// loghub run is classifyLoghub.integration.test.ts). One thread and Q8_0 keep the runs short on
// a shared 2-core machine.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { artifactsDir, loghubDir, splitLogLines, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';
import { ECS_ALLOWED } from './ecsAllowed.js';
import { withoutNodeWarnings } from './spawnCli.js';

const model = tinyModel('q8_0');
const engine = ['--model', model, '--threads', '1'];
const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const workDir = join(artifactsDir, 'classify-cli');
mkdirSync(workDir, { recursive: true });

const parseJsonl = (s: string) => s.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const isBlank = (line: string) => /^\s*$/u.test(line);

function writeSample(name: string, lines: string[]): string {
  const path = join(workDir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const openSshSample = () => writeSample('openssh-150.log', splitLogLines(readFileSync(join(loghubDir(), 'OpenSSH_2k.log'), 'utf8')).slice(0, 150));

describe('logtriage classify', () => {
  it('writes RFC 4180 CSV a real parser reads, across mixed line endings and blank lines, with formulas neutralised', async () => {
    const apache = splitLogLines(readFileSync(join(loghubDir(), 'Apache_2k.log'), 'utf8')).slice(0, 120);
    const tricky = ['=HYPERLINK("http://192.0.2.1/x","open")', '+SUM(1,2)', '-1+2', '@cmd', 'a "quoted", comma-separated, line'];
    const lines = [...apache.slice(0, 60), '', ...tricky, '   ', ...apache.slice(60)];
    const endings = ['\n', '\r\n', '\r'];
    // A lone CR followed by an empty line's LF would read as one CRLF, so that pair gets LF.
    const ending = (i: number) => (endings[i % 3] === '\r' && lines[i + 1] === '' ? '\n' : endings[i % 3]);
    const sample = join(workDir, 'apache-mixed.log');
    writeFileSync(sample, lines.map((l, i) => l + ending(i)).join(''));
    const { code, stdout, stderr } = await runCli(['classify', sample, ...engine, '--format', 'csv', '--scores', '--text']);
    expect(code, stderr).toBe(0);
    const rows = parseCsv(stdout, { columns: true }) as Array<Record<string, string>>;
    const expected = lines.flatMap((text, i) => (isBlank(text) ? [] : [{ line: i + 1, text }]));
    expect(rows).toHaveLength(expected.length);
    rows.forEach((row, i) => {
      const { line, text } = expected[i]!;
      expect(Number(row.line)).toBe(line);
      expect(row.file).toBe(sample);
      expect(row.text).toBe(/^[=+\-@]/.test(text) ? `'${text}` : text);
      expect(LABELS).toContain(row.label);
      const sum = LABELS.reduce((s, l) => s + Number(row[`score_${l}`]), 0);
      expect(sum).toBeCloseTo(1, 5);
    });
    expect(stderr).toContain(`classified ${expected.length} lines (2 blank skipped)`);
  });

  it('reads stdin and gzip files in one run, and flags invalid UTF-8', async () => {
    const input = Buffer.concat([Buffer.from('ERROR disk full\n'), Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]), Buffer.from('ok\r\n')]);
    const gz = join(workDir, 'input.log.gz');
    writeFileSync(gz, gzipSync(input));
    const { code, stdout, stderr } = await runCli(['classify', gz, '-', ...engine, '--text'], input);
    expect(code, stderr).toBe(0);
    const records = parseJsonl(stdout);
    expect(records.map((r) => `${r.file}:${r.line}:${r.text}`)).toEqual([
      `${gz}:1:ERROR disk full`,
      `${gz}:2:bad\ufffd\ufffd`,
      `${gz}:3:ok`,
      '<stdin>:1:ERROR disk full',
      '<stdin>:2:bad\ufffd\ufffd',
      '<stdin>:3:ok',
    ]);
    expect(records[1].flags).toContain('invalid-utf8');
    expect(records[4].flags).toContain('invalid-utf8');
    expect(records.slice(3).map((r) => r.label)).toEqual(records.slice(0, 3).map((r) => r.label));
  });

  it('--max-line-bytes keeps the start of a longer line, flags it line-truncated and reads the next line whole', async () => {
    const sample = join(workDir, 'long-line.log');
    writeFileSync(sample, `ERROR disk full\n${'A'.repeat(200_000)}\nok\n`);
    const { code, stdout, stderr } = await runCli(['classify', sample, ...engine, '--text', '--max-line-bytes', '1000']);
    expect(code, stderr).toBe(0);
    const records = parseJsonl(stdout);
    expect(records.map((r) => [r.line, r.text.length, r.truncated === true, (r.flags ?? []).includes('line-truncated')])).toEqual([
      [1, 15, false, false],
      [2, 1000, true, true],
      [3, 2, false, false],
    ]);
  });

  it('writes ECS with allowed values only, and --only / --min-score keep exactly the matching records', async () => {
    const sample = openSshSample();
    const ecs = await runCli(['classify', sample, ...engine, '--format', 'ecs', '--text']);
    expect(ecs.code, ecs.stderr).toBe(0);
    const docs = parseJsonl(ecs.stdout);
    expect(docs).toHaveLength(150);
    docs.forEach((doc, i) => {
      expect(ECS_ALLOWED.kind).toContain(doc.event.kind);
      for (const c of doc.event.category ?? []) expect(ECS_ALLOWED.category).toContain(c);
      expect(doc.event.type.length).toBeGreaterThan(0);
      for (const t of doc.event.type) expect(ECS_ALLOWED.type).toContain(t);
      expect(doc.event.risk_score).toBeGreaterThanOrEqual(0);
      expect(doc.event.risk_score).toBeLessThanOrEqual(100);
      expect(doc.event.kind).toBe(['Malicious', 'Suspicious'].includes(doc.logtriage.label) ? 'alert' : 'event');
      expect(LABELS).toContain(doc.logtriage.label);
      expect(doc.logtriage.line).toBe(i + 1);
      expect(doc.log.file.path).toBe(sample);
      expect(Date.parse(doc['@timestamp'])).not.toBeNaN();
    });
    expect(docs.map((d) => d.message)).toEqual(splitLogLines(readFileSync(sample, 'utf8')));

    const filtered = await runCli(['classify', sample, ...engine, '--only', 'malicious, SUSPICIOUS', '--min-score', '0.4']);
    expect(filtered.code, filtered.stderr).toBe(0);
    const kept = docs.filter((d) => ['Malicious', 'Suspicious'].includes(d.logtriage.label) && d.logtriage.score >= 0.4);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(docs.length);
    expect(parseJsonl(filtered.stdout).map((r) => `${r.line}:${r.label}`)).toEqual(kept.map((d) => `${d.logtriage.line}:${d.logtriage.label}`));
    expect(filtered.stderr).toContain(`classified 150 lines (0 blank skipped, ${kept.length} written after filters)`);
  });

  it('escapes a hostile line in table mode: no escape sequence, title change or backspace reaches the terminal', async () => {
    const hostile = [
      'login ok \u001b]0;owned terminal title\u0007 user=root',
      'clear \u001b[2J\u001b[H\u001b[31mALL GREEN\u001b[0m',
      'rm -rf /\b\b\b\b\b\b\b\bls -la   ',
      '8-bit CSI \u009b31m and bidi \u202eexe.txt',
    ];
    const { code, stdout, stderr } = await runCli(['classify', ...engine, '--format', 'table', '--scores'], `${hostile.join('\n')}\n`);
    expect(code, stderr).toBe(0);
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
    expect(stdout).toContain('\\x1b]0;owned terminal title\\x07');
    expect(stdout).toContain('\\x1b[2J\\x1b[H\\x1b[31mALL GREEN\\x1b[0m');
    expect(stdout).toContain('rm -rf /\\b\\b\\b\\b\\b\\b\\b\\bls -la');
    expect(stdout).toContain('\\x9b31m and bidi \\u202eexe.txt');
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^LINE\s+LABEL\s+SCORE\s+Normal\s+Suspicious\s+Malicious\s+Informational\s+Error\s+TEXT$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['1', '2', '3', '4']);
  });

  it('exits 2 on usage errors and 1 on runtime errors, with one line on stderr or a JSON object with --json', async () => {
    const sample = openSshSample();
    const [badFormat, badScore, unknownLabel, followGz, missingFile, missingModel] = await Promise.all([
      runCli(['classify', '--format', 'xml', ...engine]),
      runCli(['classify', '--min-score', '1.5', '--json', ...engine]),
      runCli(['classify', sample, ...engine, '--only', 'Malicious,Bogus']),
      runCli(['classify', join(workDir, 'input.log.gz'), '--follow', ...engine]),
      runCli(['classify', join(workDir, 'no-such.log'), ...engine, '--json']),
      runCli(['classify', sample, '--model', join(workDir, 'missing.gguf')]),
    ]);
    for (const usage of [badFormat, badScore, unknownLabel, followGz]) expect(usage.code, usage.stderr).toBe(2);
    for (const runtime of [missingFile, missingModel]) expect(runtime.code, runtime.stderr).toBe(1);
    expect(badFormat.stderr).toMatch(/argument 'xml' is invalid\. Allowed choices are jsonl, csv, table, ecs/);
    expect(JSON.parse(badScore.stderr)).toEqual({ error: expect.stringMatching(/expected a probability from 0 to 1, got '1\.5'/), code: 'ERR_USAGE' });
    expect(withoutNodeWarnings(unknownLabel.stderr).trim().split('\n')).toEqual([
      "logtriage: ValidationError: Unknown label 'Bogus' in --only; this model's labels are: Normal, Suspicious, Malicious, Informational, Error",
    ]);
    expect(unknownLabel.stdout).toBe('');
    expect(followGz.stderr).toMatch(/--follow cannot follow a compressed file/);
    expect(JSON.parse(missingFile.stderr)).toEqual({ error: expect.stringMatching(/no-such\.log/), code: 'ENOENT' });
    expect(withoutNodeWarnings(missingModel.stderr).trim().split('\n')).toHaveLength(1);
    expect(missingModel.stderr).toMatch(/ModelLoadError: Model file not found/);
  });

  it('shows help with examples', async () => {
    const { code, stdout } = await runCli(['classify', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--format <format>/);
    expect(stdout).toMatch(/Examples:\n {2}\$ logtriage classify/);
  });
});

describe('logtriage convert', () => {
  it('converts the HF checkpoint to a GGUF that classifies', async () => {
    const out = join(artifactsDir, 'cli-convert-f16.gguf');
    const conv = await runCli(['convert', tinyCheckpointDir(), '-o', out, '--type', 'f16']);
    expect(conv.code, conv.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(conv.stderr).toMatch(/labels: Normal, Suspicious, Malicious, Informational, Error/);
    const run = await runCli(['classify', '--model', out, '--threads', '1'], 'kernel: Out of memory: Killed process 4242\n');
    expect(run.code, run.stderr).toBe(0);
    expect(parseJsonl(run.stdout)).toHaveLength(1);
  });

  it('refuses a folder that is not a checkpoint with exit 1 and the missing file named', async () => {
    const r = await runCli(['convert', artifactsDir, '-o', join(artifactsDir, 'never.gguf')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config\.json/);
    expect(existsSync(join(artifactsDir, 'never.gguf'))).toBe(false);
  });
});
