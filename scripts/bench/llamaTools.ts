// SPDX-License-Identifier: MIT
// llama.cpp's own tools as benchmark contenders: llama-embedding (LAST pooling over a file of
// lines) and llama-bench (prompt processing, the engine's ceiling). Built by
// `node scripts/build-native.mjs --tools` from node-llama-cpp's bundle, cached outside the repo.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ContenderResult } from './results.js';

const run = promisify(execFile);

export function llamaToolsDir(): string | undefined {
  const cache = process.env.LOGTRIAGE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logtriage');
  const current = join(cache, 'llama-tools', 'current.json');
  if (!existsSync(current)) return undefined;
  const { binDir } = JSON.parse(readFileSync(current, 'utf8')) as { binDir: string };
  return existsSync(join(binDir, 'llama-embedding')) && existsSync(join(binDir, 'llama-bench')) ? binDir : undefined;
}

/** Runs `argv` under GNU time; returns its output, wall seconds and peak RSS. */
export async function timed(argv: string[], rssFile: string): Promise<{ stdout: string; stderr: string; wallS: number; peakRssMiB: number }> {
  const started = performance.now();
  const { stdout, stderr } = await run('/usr/bin/time', ['-o', rssFile, '-f', '%M', ...argv], { maxBuffer: 256 * 2 ** 20 });
  const wallS = (performance.now() - started) / 1000;
  const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  return { stdout, stderr, wallS, peakRssMiB: kib / 1024 };
}

export async function runLlamaEmbedding(
  binDir: string,
  model: string,
  lines: readonly string[],
  opts: { threads: number; ctx: number; workDir: string; tokens: number },
): Promise<ContenderResult> {
  const linesFile = join(opts.workDir, 'lines.txt');
  writeFileSync(linesFile, `${lines.join('\n')}\n`);
  const r = await timed(
    [join(binDir, 'llama-embedding'), '-m', model, '-f', linesFile, '--pooling', 'last', '--embd-normalize', '-1', '-t', String(opts.threads), '-c', String(opts.ctx), '--no-warmup'],
    join(opts.workDir, 'rss.txt'),
  );
  // llama_perf prints the model load time; the rest of the run is tokenizing, decoding and output.
  const load = /load time =\s*([\d.]+) ms/.exec(r.stderr);
  const loadMs = load ? Number(load[1]) : 0;
  return { lines: lines.length, tokens: opts.tokens, seconds: r.wallS - loadMs / 1000, loadMs, peakRssMiB: r.peakRssMiB };
}

export async function runLlamaBench(
  binDir: string,
  model: string,
  opts: { threads: number; promptTokens: number; ubatch: number; repetitions: number; workDir: string },
): Promise<ContenderResult> {
  const r = await timed(
    [join(binDir, 'llama-bench'), '-m', model, '-p', String(opts.promptTokens), '-n', '0', '-b', String(opts.promptTokens), '-ub', String(opts.ubatch),
      '-t', String(opts.threads), '-r', String(opts.repetitions), '-o', 'json'],
    join(opts.workDir, 'rss.txt'),
  );
  const rows = JSON.parse(r.stdout) as Array<{ avg_ts: number; n_prompt: number }>;
  const tps = rows[0]!.avg_ts;
  return { lines: 0, tokens: opts.promptTokens * opts.repetitions, seconds: (opts.promptTokens * opts.repetitions) / tps, loadMs: 0, engineTokensPerS: tps, peakRssMiB: r.peakRssMiB };
}
