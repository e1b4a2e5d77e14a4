// SPDX-License-Identifier: MIT
// `logtriage classify` and `logtriage convert` end to end, through a real process.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { artifactsDir, loghubDir, splitLogLines, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const parseJsonl = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('logtriage classify', () => {
  it('classifies every non-blank line of a file with mixed line endings, in order', async () => {
    const lines = splitLogLines(readFileSync(join(loghubDir(), 'Apache_2k.log'), 'utf8')).slice(0, 300);
    // The samples use one ending per file; mix LF, CRLF and lone CR within one file here.
    const endings = ['\n', '\r\n', '\r'];
    const sample = join(artifactsDir, 'apache-300-mixed.log');
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(sample, lines.map((l, i) => l + endings[i % 3]).join('') + '   \n');
    const { code, stdout, stderr } = await runCli(['classify', sample, '--model', model, '--threads', '2', '--text']);
    expect(code, stderr).toBe(0);
    const records = parseJsonl(stdout);
    expect(records).toHaveLength(300);
    records.forEach((r, i) => {
      expect(r.line).toBe(i + 1);
      expect(r.text).toBe(lines[i]);
      expect(['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error']).toContain(r.label);
    });
    expect(stderr).toMatch(/classified 300 lines \(1 blank skipped\)/);
  });

  it('reads stdin and gzip files, and flags invalid UTF-8', async () => {
    const input = Buffer.concat([Buffer.from('ERROR disk full\n'), Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]), Buffer.from('ok\r\n')]);
    const fromStdin = await runCli(['classify', '--model', model, '--threads', '2', '--text'], input);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const records = parseJsonl(fromStdin.stdout);
    expect(records.map((r) => r.text)).toEqual(['ERROR disk full', 'bad\ufffd\ufffd', 'ok']);
    expect(records[1].flags).toContain('invalid-utf8');
    const gz = join(artifactsDir, 'input.log.gz');
    writeFileSync(gz, gzipSync(input));
    const fromGz = await runCli(['classify', gz, '--model', model, '--threads', '2', '--text']);
    expect(parseJsonl(fromGz.stdout).map((r) => r.label)).toEqual(records.map((r) => r.label));
  });

  it('exits 2 on a usage error and 1 on a runtime error, with one line on stderr', async () => {
    const usage = await runCli(['classify', '--model', model, '--truncation', 'middle']);
    expect(usage.code).toBe(2);
    const missing = await runCli(['classify', join(loghubDir(), 'HDFS_2k.log'), '--model', join(artifactsDir, 'missing.gguf')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/ModelLoadError: Model file not found/);
  });
});

describe('logtriage convert', () => {
  it('converts the HF checkpoint to a GGUF that classifies', async () => {
    const out = join(artifactsDir, 'cli-convert-f16.gguf');
    const conv = await runCli(['convert', tinyCheckpointDir(), '-o', out, '--type', 'f16']);
    expect(conv.code, conv.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(conv.stderr).toMatch(/labels: Normal, Suspicious, Malicious, Informational, Error/);
    const run = await runCli(['classify', '--model', out, '--threads', '2'], 'kernel: Out of memory: Killed process 4242\n');
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
