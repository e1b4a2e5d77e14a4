// SPDX-License-Identifier: MIT
// The side-by-side benchmark (issue #5): logtriage against node-llama-cpp, llama-embedding and
// llama-bench on the same GGUF and lines, each contender in its own process, rounds interleaved.
//
//   npm run bench                          # tiny + 1.5B-shaped F16/Q8_0 (all contenders), Q4_0/Q4_K_M (logtriage + llama-bench)
//   npm run bench -- --smoke --out dir     # CI: tiny model, few lines; must run and write the report
//   npm run bench -- --models f16 --lines 64 --run 8 --rounds 2 --threads 2
//   npm run bench -- --gpu cuda --models f16,q8_0 --lines 1024   # every contender on the GPU (scripts/gpu/gpu-check.sh)
//   npm run bench -- --scenario streaming --models q8_0 [--lines 64]   # issue 17's targets: streams, batch 8, RSS, threads idle and loaded (scripts/bench/streaming.ts)
//   npm run bench -- --scenario templates --models tiny [--off-lines 160] [--off-window 160] [--paths library,serve,worker]   # issue 27: the template tier on the ten-system stream (scripts/bench/templateTier.ts)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, homedir, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { convertCheckpoint, type ConvertType } from '../../src/convert/index.js';
import { installedGpuBackendFile } from '../../src/engine/gpuBackends.js';
import { LogClassifier } from '../../src/index.js';
import { ResultCache } from '../../src/engine/ResultCache.js';
import { seededRandom } from '../../src/seededRandom.js';
import { runChild as runCompiledChild } from './compileChild.js';
import { llamaToolsDir, runLlamaBench, runLlamaEmbedding } from './llamaTools.js';
import { renderMarkdown, renderSvg, ourPeakRssMiB, rssBoundMiB, type BenchReport, type ContenderRow, type ModelReport, type TypeParity } from './report.js';
import { combineRounds, percentile, type ContenderResult } from './results.js';
import { runStreaming } from './streaming.js';
import { runTemplateTier, TEMPLATE_PATHS, type TemplatePath } from './templateTier.js';
import { defaultCheckpointDir, makeRandomCheckpoint, type CheckpointShape } from '../fixtures/make-random-checkpoint.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(root, '..', 'shared');
const execFileAsync = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    scenario: { type: 'string', default: 'sample' },
    models: { type: 'string' },
    lines: { type: 'string' },
    run: { type: 'string' },
    rounds: { type: 'string' },
    threads: { type: 'string', default: String(Math.max(1, Math.min(cpus().length, 4))) },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: join(root, 'bench-results') },
    docs: { type: 'boolean', default: false },
    // Convert the models (cached) and exit: a timed session then starts with them in place.
    prepare: { type: 'boolean', default: false },
    // A GPU backend for every contender: logtriage opens with `gpu`, llama.cpp's tools get -ngl 99.
    gpu: { type: 'string' },
    // The random model's shape for the non-tiny models (scripts/fixtures/make-random-checkpoint.ts CHECKPOINT_SHAPES).
    shape: { type: 'string', default: 'qwen2-1.5b' },
    // --scenario templates: tier-off sample size (default: the whole stream) and its windows of
    // contiguous lines (default one turn of the stream; 1: single lines spread evenly), paths, audit share.
    'off-lines': { type: 'string' },
    'off-window': { type: 'string' },
    'in-flight': { type: 'string' },
    paths: { type: 'string', default: TEMPLATE_PATHS.join(',') },
    audit: { type: 'string' },
    'min-agreement': { type: 'string' },
  },
});
const gpu = args.gpu as 'cuda' | 'vulkan' | 'metal' | undefined;
if (gpu !== undefined && !['cuda', 'vulkan', 'metal'].includes(gpu)) throw new Error(`--gpu must be cuda, vulkan or metal (got '${gpu}')`);
// llama.cpp's tools load the same GPU library as the addon (Metal is built into the macOS libraries).
const toolGpu = gpu ? { backendPath: installedGpuBackendFile(gpu) ?? '' } : undefined;

const smoke = args.smoke;
const streaming = args.scenario === 'streaming';
const templates = args.scenario === 'templates';
if (!['sample', 'streaming', 'templates'].includes(args.scenario)) throw new Error(`--scenario must be 'sample', 'streaming' or 'templates', not '${args.scenario}'`);
const threads = Number(args.threads);
const nLines = Number(args.lines ?? (smoke ? 12 : streaming ? 160 : 40));
// Consecutive lines taken from each file: a log stream is runs of one system's lines.
const runLength = Number(args.run ?? (streaming ? 16 : 4));
const rounds = Number(args.rounds ?? (smoke || streaming ? 1 : 2));
const seed = Number(args.seed);
const modelNames = (args.models ?? (smoke ? 'tiny' : 'tiny,f16,q8_0,q4_0,q4_k_m')).split(',');
const outDir = resolve(args.out);
const workDir = join(outDir, 'work');
mkdirSync(workDir, { recursive: true });
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const cacheDir = process.env.LOGTRIAGE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logtriage');
const benchModelsDir = join(cacheDir, 'bench');

/** A GGUF per model name, converted once and cached outside the repo. */
async function prepareModel(name: string): Promise<string> {
  mkdirSync(benchModelsDir, { recursive: true });
  if (name === 'tiny') {
    const out = join(benchModelsDir, 'qwen2-tiny-public-f32.gguf');
    if (!existsSync(out)) await convertCheckpoint(join(shared, 'fixtures', 'qwen2-tiny-public', 'model'), out, { type: 'f32' });
    return out;
  }
  const shape = args.shape as CheckpointShape;
  const out = join(benchModelsDir, `${shape}-random-${name}.gguf`);
  if (existsSync(out)) return out;
  const checkpoint = defaultCheckpointDir(shape, 'bf16', 2);
  if (!existsSync(join(checkpoint, 'model.safetensors.index.json'))) {
    log(`writing a ${shape}-shaped random checkpoint to ${checkpoint}`);
    await makeRandomCheckpoint(checkpoint, { shape, dtype: 'bf16', shards: 2 });
  }
  log(`converting to ${name}: ${out}`);
  await convertCheckpoint(checkpoint, out, { type: name as ConvertType, threads });
  return out;
}

const splitLines = (text: string) => text.split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0);
const loghubDir = join(shared, 'data', 'loghub');
const loghubFiles = () => readdirSync(loghubDir).filter((f) => f.endsWith('.log')).sort().map((f) => join(loghubDir, f));

/** Seeded, time-ordered: runs of `run` consecutive lines, from each loghub file in turn. */
function sampleLines(count = nLines, run = runLength): string[] {
  const random = seededRandom(seed);
  const files = loghubFiles().map((file) => splitLines(readFileSync(file, 'utf8')));
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const lines = files[i % files.length]!;
    const start = Math.floor(random() * (lines.length - run));
    out.push(...lines.slice(start, start + run));
  }
  return out.slice(0, count);
}

function runChild(script: string, payload: object): Promise<ContenderResult> {
  return runCompiledChild(script, payload, join(workDir, 'rss.txt'));
}

interface Contender {
  name: string;
  linesPerDecode?: number;
  run: (lines: string[], meanTokens: number) => Promise<ContenderResult>;
}

function contendersFor(model: string, modelName: string, p95: number): Contender[] {
  const full = !smoke && (modelName === 'tiny' || modelName === 'f16' || modelName === 'q8_0');
  const ours = (name: string, mode: string, batchSize: number, prefixSharing = true, extra: object = {}): Contender => ({
    name,
    ...(mode === 'concurrent' ? {} : { linesPerDecode: batchSize }),
    run: (lines) =>
      runChild('contenderLogtriage.ts', {
        model, linesFile: writeLines(lines), mode, batchSize, batchTokens: Math.max(512, batchSize * p95), callers: 50, prefixSharing, threads,
        ...(gpu ? { options: { gpu } } : {}), ...extra,
      }),
  });
  const list: Contender[] = [
    ours('logtriage batch 1', 'sequential', 1),
    ours('logtriage batch 8', 'batch', 8),
    ours('logtriage batch 8, no prefix sharing', 'batch', 8, false),
  ];
  if (full || smoke) list.push(ours('logtriage batch 32', 'batch', 32), ours('logtriage 50 concurrent callers', 'concurrent', 1));
  // Batch 128 only differs from 32 when a round has more than 32 lines.
  if (full && Math.ceil(nLines / rounds) > 32) list.push(ours('logtriage batch 128', 'batch', 128));
  // A GPU's decode cost barely grows with batch width until it is full: find where lines/s peaks.
  if (full && gpu && Math.ceil(nLines / rounds) > 128) list.push(ours('logtriage batch 256', 'batch', 256));
  // node-llama-cpp's contender runs on the CPU only; on a GPU run its row would compare unlike with like.
  if ((full || smoke) && !gpu) {
    list.push({ name: 'node-llama-cpp getEmbeddingFor', linesPerDecode: 1, run: (lines) => runChild('contenderNodeLlamaCpp.ts', { model, linesFile: writeLines(lines), threads }) });
  }
  const tools = llamaToolsDir();
  if (tools) {
    if (full || smoke) {
      for (const ctx of gpu ? [512, 2048, 8192] : [512, 2048]) {
        list.push({
          name: `llama-embedding -c ${ctx}${gpu ? ' -ngl 99' : ''}`,
          run: (lines, meanTokens) => runLlamaEmbedding(tools, model, lines, { threads, ctx, workDir, tokens: Math.round(meanTokens * lines.length), gpu: toolGpu }),
        });
      }
    }
    list.push({ name: 'llama-bench pp512', run: () => runLlamaBench(tools, model, { threads, promptTokens: 512, ubatch: 512, repetitions: smoke ? 1 : 2, workDir, gpu: toolGpu }) });
  }
  return list;
}

/** llama-embedding packs lines up to its context (`-c N`) per decode. */
function embeddingLinesPerDecode(name: string, meanTokens: number): number | undefined {
  const ctx = /^llama-embedding -c (\d+)/.exec(name)?.[1];
  return ctx ? Number(ctx) / meanTokens : undefined;
}

let linesFileCounter = 0;
function writeLines(lines: string[]): string {
  const file = join(workDir, `lines-${linesFileCounter++}.json`);
  writeFileSync(file, JSON.stringify(lines));
  return file;
}

function row(name: string, r: ContenderResult, linesPerDecode: number | undefined): ContenderRow {
  return { name, ...r, ...(linesPerDecode !== undefined ? { linesPerDecode } : {}), linesPerS: r.lines / r.seconds, tokensPerS: r.tokens / r.seconds };
}

function ratios(rows: ContenderRow[], sizeMiB: number): Record<string, number> {
  const get = (name: string) => rows.find((r) => r.name === name);
  const ourBest = rows.filter((r) => r.name.startsWith('logtriage') && !r.name.includes('no prefix')).sort((a, b) => b.linesPerS - a.linesPerS)[0];
  const embedBest = rows.filter((r) => r.name.startsWith('llama-embedding')).sort((a, b) => b.linesPerS - a.linesPerS)[0];
  const nlc = get('node-llama-cpp getEmbeddingFor');
  const noShare = get('logtriage batch 8, no prefix sharing');
  const engine = get('llama-bench pp512');
  const out: Record<string, number> = {};
  if (ourBest && nlc) out[`lines/s, ${ourBest.name} vs node-llama-cpp`] = ourBest.linesPerS / nlc.linesPerS;
  if (ourBest && embedBest) out[`lines/s, ${ourBest.name} vs ${embedBest.name}`] = ourBest.linesPerS / embedBest.linesPerS;
  if (noShare && engine?.engineTokensPerS) out['tokens/s, logtriage batch 8 without prefix sharing vs llama-bench pp512'] = noShare.tokensPerS / engine.engineTokensPerS;
  const ourRss = ourPeakRssMiB(rows);
  if (ourRss > 0) out['peak RSS, worst logtriage row vs the bound 1.1 × file + 150 MB (≤ 1 meets it)'] = ourRss / rssBoundMiB(sizeMiB);
  return out;
}

/**
 * What a tensor type costs in accuracy, measured where HF's own logits exist: the parity model
 * converted to `type`, every fixture case in parse mode, against HF's logits and labels.
 */
async function parityAt(type: ConvertType): Promise<TypeParity> {
  const file = join(benchModelsDir, `qwen2-tiny-public-${type}.gguf`);
  const fixture = join(shared, 'fixtures', 'qwen2-tiny-public');
  if (!existsSync(file)) await convertCheckpoint(join(fixture, 'model'), file, { type });
  const cases = readFileSync(join(fixture, 'expected.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; logits: number[] | null; hf_newer_pooled_logits?: number[] })
    .filter((c) => c.logits !== null);
  const clf = await LogClassifier.open(file, { threads, gpu: 'cpu', specialTokens: 'parse', rejectWhitespace: false, resultCache: 0 });
  try {
    const results = await clf.classifyMany(cases.map((c) => c.text));
    let worst = 0;
    let agree = 0;
    results.forEach((r, i) => {
      const ref = cases[i]!.hf_newer_pooled_logits ?? cases[i]!.logits!;
      worst = Math.max(worst, ...r.logits.map((x, j) => Math.abs(x - ref[j]!)));
      if (r.label === clf.labels[ref.indexOf(Math.max(...ref))]) agree++;
    });
    return { worstLogitDiff: worst, labelsAgreeing: agree, cases: cases.length };
  } finally {
    await clf.dispose();
  }
}

/** Tokens prefix sharing saves on each loghub file, and how often an exact repeat would hit the cache. */
async function loghubSavings(tinyModel: string): Promise<{ saved: Record<string, number>; hits: Record<string, number> }> {
  const clf = await LogClassifier.open(tinyModel, { threads, resultCache: 0, gpu: 'cpu' });
  const saved: Record<string, number> = {};
  const hits: Record<string, number> = {};
  try {
    for (const file of loghubFiles()) {
      const lines = splitLines(readFileSync(file, 'utf8'));
      const before = clf.stats();
      await clf.classifyMany(lines.slice(0, smoke ? 32 : 128));
      const after = clf.stats();
      saved[basename(file)] = 1 - (after.tokensDecoded - before.tokensDecoded) / (after.tokensIn - before.tokensIn);
      const cache = new ResultCache(4096);
      for (const ids of await clf.tokenizeMany(lines)) {
        const tokens = Int32Array.from(ids);
        if (!cache.get(tokens)) cache.set(tokens, new Float32Array(0));
      }
      const s = cache.stats();
      hits[basename(file)] = s.hits / s.lookups;
    }
  } finally {
    await clf.dispose();
  }
  return { saved, hits };
}

async function machine(): Promise<string> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let flags = '';
  try {
    flags = (await execFileAsync('sh', ['-c', "grep -m1 -o -w -E 'avx512f|avx2|avx_vnni|fma|f16c' /proc/cpuinfo | sort -u | tr '\\n' ' '"])).stdout.trim();
  } catch {
    // not Linux: the CPU model is enough
  }
  const host = `${cpu} (${cpus().length} logical CPUs${flags ? `, ${flags}` : ''}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}-${process.arch}, Node ${process.versions.node}`;
  return gpu ? `${await gpuName()}; ${host}` : host;
}

/** The card the GPU rows ran on, as its driver names it. */
async function gpuName(): Promise<string> {
  if (gpu !== 'cuda') return `${gpu} GPU`;
  try {
    const { stdout } = await execFileAsync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader']);
    const [name, memory, driver] = stdout.trim().split('\n')[0]!.split(', ');
    return `${name} (${memory}, driver ${driver})`;
  } catch {
    return 'CUDA GPU (nvidia-smi not found)';
  }
}

async function main(): Promise<void> {
  if (args.prepare) {
    for (const name of modelNames) log(`ready: ${await prepareModel(name)}`);
    return;
  }
  if (templates) {
    const paths = args.paths.split(',') as TemplatePath[];
    const unknown = paths.find((p) => !TEMPLATE_PATHS.includes(p));
    if (unknown !== undefined) throw new Error(`--paths: '${unknown}' is not one of ${TEMPLATE_PATHS.join(', ')}`);
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    const templateArgs = {
      models: modelNames,
      files: loghubFiles(),
      ...(args.lines !== undefined ? { lines: Number(args.lines) } : {}),
      runLength: Number(args.run ?? 16),
      ...(args['off-lines'] !== undefined ? { offLines: Number(args['off-lines']) } : {}),
      ...(args['off-window'] !== undefined ? { offWindow: Number(args['off-window']) } : {}),
      ...(args['in-flight'] !== undefined ? { inFlight: Number(args['in-flight']) } : {}),
      paths,
      ...(args.audit !== undefined ? { audit: Number(args.audit) } : {}),
      ...(args['min-agreement'] !== undefined ? { minAgreement: Number(args['min-agreement']) } : {}),
    };
    process.stdout.write(await runTemplateTier(templateArgs, { threads, outDir, command, machine, log, prepareModel }));
    return;
  }
  const tiny = await prepareModel('tiny');
  if (streaming) {
    const countTokens = async (texts: string[]) => {
      const tokenizer = await LogClassifier.open(tiny, { threads, gpu: 'cpu' });
      try {
        return (await tokenizer.tokenizeMany(texts)).map((ids) => ids.length);
      } finally {
        await tokenizer.dispose();
      }
    };
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    // The default scenario's sample (40 lines; fewer for a short trial run) and batch-8 batchTokens (contendersFor).
    const sample = sampleLines(Math.min(40, nLines), 4);
    const sampleBatchTokens = Math.max(512, 8 * percentile(await countTokens(sample), 95));
    const deps = { threads, seed, rounds, outDir, workDir, command, machine, log, prepareModel, runChild, countTokens, tinyModel: tiny, sample: { lines: sample, batchTokens: sampleBatchTokens } };
    process.stdout.write(await runStreaming(modelNames, nLines, runLength, loghubFiles(), seededRandom(seed), deps));
    return;
  }
  const lines = sampleLines();
  const tokenizer = await LogClassifier.open(tiny, { threads, gpu: 'cpu' });
  const counts = (await tokenizer.tokenizeMany(lines)).map((ids) => ids.length);
  await tokenizer.dispose();
  const meanTokens = counts.reduce((a, b) => a + b, 0) / counts.length;
  const p95 = percentile(counts, 95);
  log(`${lines.length} lines, mean ${meanTokens.toFixed(1)} tokens, p95 ${p95}`);

  const notes: string[] = [];
  if (!llamaToolsDir()) notes.push('llama-embedding / llama-bench not built here (`node scripts/build/build-native.mjs --tools`): their rows are missing.');
  const models: ModelReport[] = [];
  for (const name of modelNames) {
    const file = await prepareModel(name);
    const contenders = contendersFor(file, name, p95);
    const perRound: ContenderResult[][] = contenders.map(() => []);
    const chunk = Math.ceil(lines.length / rounds);
    for (let round = 0; round < rounds; round++) {
      const part = lines.slice(round * chunk, (round + 1) * chunk);
      const order = contenders.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        log(`${name} round ${round + 1}/${rounds}: ${contenders[i]!.name}`);
        perRound[i]!.push(await contenders[i]!.run(part, meanTokens));
      }
    }
    const rows = contenders.map((c, i) => row(c.name, combineRounds(perRound[i]!), c.linesPerDecode ?? embeddingLinesPerDecode(c.name, meanTokens)));
    const sizeMiB = statSync(file).size / 2 ** 20;
    models.push({
      name: name === 'tiny' ? 'qwen2-tiny-public F32 (parity model)' : `Qwen2-1.5B-shaped ${name.toUpperCase()}`,
      type: name === 'tiny' ? 'f32' : name,
      file, sizeMiB, contenders: rows, ratios: ratios(rows, sizeMiB),
      ...(name === 'tiny' ? {} : { parity: await parityAt(name as ConvertType) }),
    });
  }

  const { saved, hits } = await loghubSavings(tiny);
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: await machine(),
    threads,
    sample: { lines: lines.length, runLength, seed, meanTokens, p95Tokens: p95, rounds },
    models,
    prefixSavings: saved,
    cacheHitRate: hits,
    notes,
  };
  writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  writeFileSync(join(outDir, 'bench.md'), markdown);
  for (const m of models) writeFileSync(join(outDir, `lines-per-s-${slug(m.name)}.svg`), renderSvg(m));
  if (args.docs) {
    const docs = join(root, 'docs');
    for (const m of models) writeFileSync(join(docs, `bench-${slug(m.name)}.svg`), renderSvg(m));
    const plots = models.map((m) => `![${m.name}](bench-${slug(m.name)}.svg)`).join('\n');
    writeFileSync(join(docs, 'benchmarks.md'), `# Benchmarks\n\n${markdown}\n${plots}\n`);
    writeFileSync(join(docs, 'benchmarks.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
  process.stdout.write(markdown);
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

main().catch((err) => {
  process.stderr.write(`[bench] ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
