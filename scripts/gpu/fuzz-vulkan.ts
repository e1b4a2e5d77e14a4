// SPDX-License-Identifier: MIT
// Concurrency fuzz for the Vulkan path on lavapipe (docs/gpu.md, "The heap corruption on
// lavapipe"): each run is a fresh process that opens the tiny parity model on Vulkan (--types:
// default f16, the weights that crashed; f16,f32 for both) and throws random concurrent
// classify(), classifyMany(), tokenize() and stats() calls at it, with one more F16 classifier
// opened and disposed midway. A fresh process per run because the corruption struck in a
// process's first rounds of calls, while ggml-vulkan still compiles pipelines on first use.
// Prints one line per run and a JSON summary; exits 1 when any run died (signal or non-zero exit).
//
//   node --import tsx scripts/gpu/fuzz-vulkan.ts --runs 40            # 40 processes, random seeds
//   node --import tsx scripts/gpu/fuzz-vulkan.ts --runs 40 --flash-attn true   # refused since the workaround; on 854ccd8: the crash, 1 run in 7
//   node --import tsx scripts/gpu/fuzz-vulkan.ts --runs 40 --types f16,f32 --env GGML_VK_DISABLE_F16=1
//   node --import tsx scripts/gpu/fuzz-vulkan.ts --child --seed 7     # one run in this process
//
// --env NAME= unsets NAME in the children, --env NAME=VALUE sets it. Needs the converted test models
// (test-artifacts/, made by the test suite's globalSetup) and @node-llama-cpp/linux-x64-vulkan.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LogClassifier } from '../../src/index.js';
import { expectedCases, tinyModel, type TinyModelType } from '../../test/fixtures/index.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    iterations: { type: 'string', default: '6' },
    types: { type: 'string', default: 'f16' },
    // 'true' brings the crash back: 'auto' now stays off on lavapipe (docs/gpu.md).
    'flash-attn': { type: 'string', default: 'auto' },
    seed: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    child: { type: 'boolean', default: false },
  },
});

/** Park-Miller: the same seed replays the same calls (not the same thread timing). */
function random(seed: number): () => number {
  let state = (seed % 2147483646) + 1;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

async function child(seed: number, iterations: number): Promise<void> {
  const texts = expectedCases().filter((c) => c.logits !== null).map((c) => c.text);
  const flashAttn = args['flash-attn'] === 'auto' ? 'auto' : args['flash-attn'] === 'true';
  const options = { threads: 2, resultCache: 0, specialTokens: 'parse', rejectWhitespace: false, gpu: 'vulkan', flashAttn } as const;
  const rnd = random(seed);
  const pick = () => texts[Math.floor(rnd() * texts.length)]!;
  const classifiers: LogClassifier[] = [];
  for (const type of args.types.split(',') as TinyModelType[]) classifiers.push(await LogClassifier.open(tinyModel(type), options));
  let extra: Promise<LogClassifier> | undefined;
  for (let i = 0; i < iterations; i++) {
    if (i === Math.floor(iterations / 3)) extra = LogClassifier.open(tinyModel('f16'), { ...options, batchSize: 3, batchTokens: 64 });
    const calls: Promise<unknown>[] = [];
    for (let n = 1 + Math.floor(rnd() * 12); n > 0; n--) {
      const clf = classifiers[Math.floor(rnd() * classifiers.length)]!;
      const r = rnd();
      if (r < 0.5) calls.push(clf.classify(pick()));
      else if (r < 0.8) calls.push(clf.classifyMany(Array.from({ length: 1 + Math.floor(rnd() * 6) }, pick)));
      else if (r < 0.9) calls.push(clf.tokenize(pick()));
      else clf.stats();
      if (rnd() < 0.3) await new Promise((resolve) => setImmediate(resolve));
    }
    if (extra && rnd() < 0.5) {
      const clf = await extra;
      calls.push(clf.classifyMany([pick(), pick()]));
    }
    await Promise.all(calls);
    if (i === Math.floor((2 * iterations) / 3) && extra) {
      const clf = await extra;
      // Disposed while a call may still be queued: it resolves or rejects with DisposedError/AbortError.
      const last = clf.classify(pick()).catch((err: Error & { code?: string }) => err.code);
      await clf.dispose();
      await last;
      extra = undefined;
    }
  }
  await (await extra)?.dispose();
  for (const clf of classifiers) await clf.dispose();
}

function runChild(seed: number, env: NodeJS.ProcessEnv): Promise<{ seed: number; code: number | null; signal: string | null; seconds: number; tail: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--seed', String(seed), '--iterations', args.iterations, '--types', args.types, '--flash-attn', args['flash-attn']], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ seed, code, signal, seconds: (Date.now() - started) / 1000, tail: stderr.trim().split('\n').slice(-3).join(' | ') }));
  });
}

if (args.child) {
  // ggml lists lavapipe only when this names it, read when the addon loads (on first open).
  process.env.GGML_VK_VISIBLE_DEVICES ??= '0';
  await child(Number(args.seed ?? 1), Number(args.iterations));
} else {
  const env: NodeJS.ProcessEnv = { GGML_VK_VISIBLE_DEVICES: '0', ...process.env };
  for (const setting of args.env) {
    const eq = setting.indexOf('=');
    if (eq < 0) throw new Error(`--env expects NAME=VALUE or NAME=, got ${setting}`);
    const [name, value] = [setting.slice(0, eq), setting.slice(eq + 1)];
    if (value === '') delete env[name];
    else env[name] = value;
  }
  const runs = Number(args.runs);
  let died = 0;
  for (let run = 1; run <= runs; run++) {
    const seed = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 1e9);
    const result = await runChild(seed, env);
    const failed = result.code !== 0;
    if (failed) died++;
    console.log(`run ${run}/${runs} seed ${seed}: ${failed ? `DIED (${result.signal ?? `exit ${result.code}`}) ${result.tail}` : 'ok'} ${result.seconds.toFixed(1)} s`);
  }
  console.log(JSON.stringify({ runs, died, env: args.env }));
  process.exitCode = died > 0 ? 1 : 0;
}
