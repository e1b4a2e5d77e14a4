// SPDX-License-Identifier: MIT
// llama.cpp's own tools as benchmark contenders: llama-embedding (LAST pooling over a file of
// lines) and llama-bench (prompt processing, the engine's ceiling). Built by
// `node scripts/build/build-native.mjs --tools` from node-llama-cpp's bundle, cached outside the repo.
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

/**
 * A GPU backend library for the tools: ggml loads it from GGML_BACKEND_PATH (the tools' own folder
 * holds the CPU package's libraries only), and every layer goes to the GPU.
 */
export interface ToolGpu {
  backendPath: string;
}

const gpuLayers = (gpu: ToolGpu | undefined) => ['-ngl', gpu ? '99' : '0'];
const gpuEnv = (gpu: ToolGpu | undefined): Record<string, string> => (gpu?.backendPath ? { GGML_BACKEND_PATH: gpu.backendPath } : {});

/** Runs `argv` under GNU time; returns its output, wall seconds and peak RSS. */
export async function timed(argv: string[], rssFile: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; wallS: number; peakRssMiB: number }> {
  const started = performance.now();
  const { stdout, stderr } = await run('/usr/bin/time', ['-o', rssFile, '-f', '%M', ...argv], { maxBuffer: 256 * 2 ** 20, env: { ...process.env, ...env } });
  const wallS = (performance.now() - started) / 1000;
  const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  return { stdout, stderr, wallS, peakRssMiB: kib / 1024 };
}

// The tool prints no load time at its default verbosity, so the fixed cost (start, model load,
// context) is measured once per model and context size with a one-token input and subtracted.
const fixedCostS = new Map<string, number>();

export async function runLlamaEmbedding(
  binDir: string,
  model: string,
  lines: readonly string[],
  opts: { threads: number; ctx: number; workDir: string; tokens: number; gpu?: ToolGpu },
): Promise<ContenderResult> {
  const runOn = async (input: readonly string[]) => {
    const linesFile = join(opts.workDir, 'lines.txt');
    writeFileSync(linesFile, `${input.join('\n')}\n`);
    return timed(
      [join(binDir, 'llama-embedding'), '-m', model, '-f', linesFile, '--pooling', 'last', '--embd-normalize', '-1', '-t', String(opts.threads),
        // n_batch must cover n_ctx: the tool packs prompts up to n_batch tokens but llama.cpp caps a decode at n_ctx.
        '-c', String(opts.ctx), '-b', String(opts.ctx), '--no-warmup', ...gpuLayers(opts.gpu)],
      join(opts.workDir, 'rss.txt'),
      gpuEnv(opts.gpu),
    );
  };
  const key = `${model}:${opts.ctx}:${opts.gpu ? 'gpu' : 'cpu'}`;
  if (!fixedCostS.has(key)) fixedCostS.set(key, (await runOn(['a'])).wallS);
  const r = await runOn(lines);
  const fixed = fixedCostS.get(key)!;
  return { lines: lines.length, tokens: opts.tokens, seconds: Math.max(1e-3, r.wallS - fixed), loadMs: fixed * 1000, peakRssMiB: r.peakRssMiB };
}

export async function runLlamaBench(
  binDir: string,
  model: string,
  opts: { threads: number; promptTokens: number; ubatch: number; repetitions: number; workDir: string; gpu?: ToolGpu },
): Promise<ContenderResult> {
  const r = await timed(
    [join(binDir, 'llama-bench'), '-m', model, '-p', String(opts.promptTokens), '-n', '0', '-b', String(opts.promptTokens), '-ub', String(opts.ubatch),
      '-t', String(opts.threads), '-r', String(opts.repetitions), '-o', 'json', ...gpuLayers(opts.gpu)],
    join(opts.workDir, 'rss.txt'),
    gpuEnv(opts.gpu),
  );
  const rows = JSON.parse(r.stdout) as Array<{ avg_ts: number; n_prompt: number }>;
  const tps = rows[0]!.avg_ts;
  return { lines: 0, tokens: opts.promptTokens * opts.repetitions, seconds: (opts.promptTokens * opts.repetitions) / tps, loadMs: 0, engineTokensPerS: tps, peakRssMiB: r.peakRssMiB };
}
