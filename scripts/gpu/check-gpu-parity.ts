// SPDX-License-Identifier: MIT
// Parity of a GPU backend with HuggingFace and with our CPU backend, on the qwen2-tiny-public
// fixture converted to F32, F16 and Q8_0: every classifiable case in parse mode at several batch
// sizes, prefix sharing on and off, 50 concurrent callers, and the literal-special-token cases in
// plain mode. Runs as plain JavaScript too (scripts/gpu/bundle-gpu-check.mjs), for a GPU machine with Node
// but no node_modules. Prints a table; writes gpu-parity.json; exits 1 when a bar is missed.
//
//   npx tsx scripts/gpu/check-gpu-parity.ts --gpu cuda [--out dir] [--threads N]
//   (--gpu cpu is a dry run of the script itself: every row compares the CPU with itself.)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../../src/convert/index.js';
import { LogClassifier, type OpenOptions } from '../../src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = resolve(root, '..', 'shared', 'fixtures', 'qwen2-tiny-public');

const { values: args } = parseArgs({
  options: {
    gpu: { type: 'string', default: 'cuda' },
    out: { type: 'string', default: join(root, 'bench-results') },
    threads: { type: 'string', default: '4' },
  },
});
const gpu = args.gpu as 'cuda' | 'vulkan' | 'metal' | 'cpu';
const threads = Number(args.threads);

type ModelType = 'f32' | 'f16' | 'q8_0';
// The parity bars of test/classifier/parity.integration.test.ts (CPU against HF).
const BARS: Record<ModelType, number> = { f32: 1e-4, f16: 2e-2, q8_0: 0.35 };
// Labels are compared where HF's top-2 gap is at least this wide: a logit error of up to the
// type's bar may swap a closer pair, which is a tie, not a bug.
const TIE_GAP: Record<ModelType, number> = { f32: 1e-3, f16: 0.05, q8_0: 0.2 };

interface Case {
  name: string;
  text: string;
  logits: number[] | null;
  hf_newer_pooled_logits?: number[];
  plain_text_logits?: number[];
  plain_text_label?: string;
}

interface Row {
  type: ModelType;
  config: string;
  cases: number;
  backend: string;
  device: string;
  gpuLayers: number;
  worstVsHf: number;
  worstVsCpu: number;
  labelsCompared: number;
  labelsAgreeing: number;
  bar: number;
  pass: boolean;
}

const cases = readFileSync(join(fixture, 'expected.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Case);
const classifiable = cases.filter((c) => c.logits !== null);
const literal = cases.filter((c) => c.plain_text_logits);

const cacheDir = process.env.LOGTRIAGE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logtriage');
async function model(type: ModelType): Promise<string> {
  const file = join(cacheDir, 'bench', `qwen2-tiny-public-${type}.gguf`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    await convertCheckpoint(join(fixture, 'model'), file, { type });
  }
  return file;
}

const argmax = (xs: readonly number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
const maxAbsDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
const top2Gap = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => b - a);
  return sorted[0]! - sorted[1]!;
};

async function logitsOf(file: string, options: OpenOptions, texts: string[], concurrent: boolean) {
  const clf = await LogClassifier.open(file, { threads, resultCache: 0, rejectWhitespace: false, ...options });
  try {
    const results = concurrent ? await Promise.all(texts.map((t) => clf.classify(t))) : await clf.classifyMany(texts);
    return { logits: results.map((r) => r.logits), labels: results.map((r) => r.label), classes: clf.labels, info: clf.info };
  } finally {
    await clf.dispose();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const configs: Array<{ config: string; options: OpenOptions; concurrent?: boolean; plain?: boolean }> = [
    { config: 'batch 1', options: { batchSize: 1 } },
    { config: 'batch 8', options: { batchSize: 8 } },
    { config: 'batch 32', options: { batchSize: 32 } },
    { config: 'batch 32, no prefix sharing', options: { batchSize: 32, prefixSharing: false } },
    { config: '50 concurrent callers', options: {}, concurrent: true },
    { config: 'plain mode, literal special tokens', options: { specialTokens: 'plain' }, plain: true },
  ];
  for (const type of ['f32', 'f16', 'q8_0'] as ModelType[]) {
    const file = await model(type);
    for (const { config, options, concurrent = false, plain = false } of configs) {
      const subset = plain ? literal : classifiable;
      const texts = subset.map((c) => c.text);
      const refs = subset.map((c) => (plain ? c.plain_text_logits! : (c.hf_newer_pooled_logits ?? c.logits!)));
      const base = { specialTokens: 'parse' as const, ...options };
      const cpu = await logitsOf(file, { ...base, gpu: 'cpu' }, texts, concurrent);
      const dev = await logitsOf(file, { ...base, gpu }, texts, concurrent);
      let worstVsHf = 0;
      let worstVsCpu = 0;
      let labelsCompared = 0;
      let labelsAgreeing = 0;
      dev.logits.forEach((logits, i) => {
        worstVsHf = Math.max(worstVsHf, maxAbsDiff(logits, refs[i]!));
        worstVsCpu = Math.max(worstVsCpu, maxAbsDiff(logits, cpu.logits[i]!));
        if (top2Gap(refs[i]!) >= TIE_GAP[type]) {
          labelsCompared++;
          if (dev.labels[i] === dev.classes[argmax(refs[i]!)]) labelsAgreeing++;
        }
      });
      const offloaded = gpu === 'cpu' || (dev.info.gpuLayers > 0 && dev.info.backend !== 'cpu');
      rows.push({
        type, config, cases: subset.length, backend: dev.info.backend, device: dev.info.device, gpuLayers: dev.info.gpuLayers,
        worstVsHf, worstVsCpu, labelsCompared, labelsAgreeing, bar: BARS[type],
        pass: offloaded && dev.logits.length === subset.length && worstVsHf <= BARS[type] && labelsAgreeing === labelsCompared,
      });
      const r = rows.at(-1)!;
      process.stderr.write(`[gpu-parity] ${type} ${config}: ${r.backend}/${r.device} layers ${r.gpuLayers}, vs HF ${r.worstVsHf.toExponential(2)}, vs CPU ${r.worstVsCpu.toExponential(2)}, labels ${r.labelsAgreeing}/${r.labelsCompared}\n`);
    }
  }
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'gpu-parity.json'), `${JSON.stringify({ date: new Date().toISOString(), gpu, rows }, null, 2)}\n`);
  const lines = [
    `| type | config | cases | device | layers | worst \\|Δ\\| vs HF | worst \\|Δ\\| vs CPU | labels (top-2 gap ≥ tie gap) | bar vs HF | |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.type.toUpperCase()} | ${r.config} | ${r.cases} | ${r.backend} ${r.device} | ${r.gpuLayers} | ${r.worstVsHf.toExponential(2)} | ${r.worstVsCpu.toExponential(2)} | ${r.labelsAgreeing}/${r.labelsCompared} | ${r.bar} | ${r.pass ? 'pass' : 'FAIL'} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (rows.some((r) => !r.pass)) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`[gpu-parity] ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
