// SPDX-License-Identifier: MIT
// The Vulkan path computing for real: node-llama-cpp's prebuilt Vulkan backend on Mesa's
// lavapipe, a conformant Vulkan driver that runs on the CPU. It proves our device choice,
// offload, buffers and result readback through a real driver, not speed (docs/gpu.md).
// ggml lists this software device only when GGML_VK_VISIBLE_DEVICES names it, and reads that
// variable when the backend loads, so it is set before anything here loads the addon (vitest runs
// each test file in its own process). With CI=true on Linux a missing driver or backend package
// fails these tests; elsewhere they are skipped with a message.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuBackendProbes, gpuBackendsLoaded, loadBinding } from '../../src/engine/binding.js';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { EXPECTED_CASE_COUNT, expectedCases, repoRoot, tinyModel, type ExpectedCase, type TinyModelType } from '../fixtures/index.js';
import { spawnNode } from '../helpers/spawnNode.js';
import { maxResultsDiff } from '../helpers/logitDiff.js';

const envBefore = { ...process.env };
const addonLoadedBefore = gpuBackendsLoaded();
process.env.GGML_VK_VISIBLE_DEVICES ??= '0';

// F32 weights: the F16 bar of the CPU parity tests; ggml-vulkan rounds matrix inputs to F16 on a
// device with F16 arithmetic (lavapipe has it), measured 1.7e-2 from HF and from the CPU.
// F16 weights: ggml-vulkan also accumulates those products in F16, measured 4.3e-2 from HF and
// 4.9e-2 from the CPU backend (GGML_VK_DISABLE_F16=1 gives 1.2e-2 and 8.4e-3; docs/gpu.md).
const TOLERANCE: Partial<Record<TinyModelType, number>> = { f32: 2e-2, f16: 6e-2 };

const required = process.env.CI === 'true' && process.platform === 'linux';

function whyUnavailable(): string | undefined {
  const binding = loadBinding();
  const probe = gpuBackendProbes().find((p) => p.backend === 'vulkan');
  if (!probe) return `no Vulkan backend package for ${process.platform}-${process.arch}`;
  if (!probe.loaded) return `the Vulkan backend did not load (install libvulkan1): ${probe.error}`;
  if (!binding.devices().some((d) => d.backend === 'Vulkan' && /llvmpipe/.test(d.description))) {
    const list = binding.devices().map((d) => d.description).join(', ');
    return `no lavapipe device at GGML_VK_VISIBLE_DEVICES=${process.env.GGML_VK_VISIBLE_DEVICES} (install mesa-vulkan-drivers; devices: ${list})`;
  }
  return undefined;
}

const unavailable = whyUnavailable();
if (unavailable && !required) console.warn(`Vulkan tests skipped: ${unavailable}`);

const cases = expectedCases().filter((c) => c.logits !== null);
const reference = (c: ExpectedCase): number[] => c.hf_newer_pooled_logits ?? c.logits!;
// Cases of 1 to 146 tokens for the runs that need not cover all of them: ggml-vulkan multiplies
// up to 8 tokens with its matrix-vector kernels and more with its tiled matrix kernels.
const handful = ['single_char', 'crlf', 'korean', 'card_debug_status', 'json_warn', 'kernel_ufw'].map((name) => cases.find((c) => c.name === name)!);

const parseOptions = { threads: 2, resultCache: 0, specialTokens: 'parse', rejectWhitespace: false } as const;

function maxDiff(a: readonly ClassificationResult[], b: readonly (ClassificationResult | readonly number[])[]): number {
  return maxResultsDiff(a, b);
}

function argmax(xs: readonly number[]): number {
  return xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
}

function top2Gap(logits: readonly number[]): number {
  const sorted = [...logits].sort((a, b) => b - a);
  return sorted[0]! - sorted[1]!;
}

// lavapipe is slow (docs/gpu.md): a fixture pass takes ~20 s of CPU time, minutes on a busy machine.
describe.skipIf(unavailable !== undefined && !required)('Vulkan on lavapipe', { timeout: 600_000 }, () => {
  it('has the Vulkan backend and lavapipe (required when CI=true), set up before the addon loaded', () => {
    expect(addonLoadedBefore).toBe(false);
    expect(unavailable).toBeUndefined();
  });

  it("gpu: 'auto' stays on the CPU beside lavapipe, which it lists as a software device", async () => {
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
    try {
      expect(clf.info.backend).toBe('CPU');
      expect(clf.info.gpuLayers).toBe(0);
    } finally {
      await clf.dispose();
    }
  });

  it("gpu: 'cpu' beside lavapipe leaves Vulkan alone (no op offload of large batches)", async () => {
    const run = await spawnNode([join(repoRoot, 'test', 'gpu', 'classifyOnCpu.ts')], { timeoutMs: 120_000, env: { ...process.env, LOGTRIAGE_LLAMA_LOG: '1' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('CPU 8');
    // The log of a model load and context creation, where llama.cpp names the devices it takes.
    expect(run.stderr).toMatch(/load_tensors: +CPU(_Mapped)? model buffer size/);
    expect(run.stderr).not.toMatch(/Vulkan0|Vulkan_Host/);
  });

  it('info --devices says why: software device with the variable, no device listed without it', async () => {
    const info = async (env: NodeJS.ProcessEnv) => {
      const run = await spawnNode([join(repoRoot, 'test', 'cli', 'cliEntry.ts'), 'info', '--devices'], { timeoutMs: 60_000, env });
      expect(run.code, run.stderr).toBe(0);
      return run.stdout;
    };
    const { GGML_VK_VISIBLE_DEVICES: _, ...without } = envBefore;
    const [named, unnamed] = await Promise.all([info({ ...without, GGML_VK_VISIBLE_DEVICES: process.env.GGML_VK_VISIBLE_DEVICES }), info(without)]);
    expect(named).toMatch(/llvmpipe.*\n\s+a software Vulkan device \(it runs on the CPU\): gpu: 'auto' never chooses one/);
    expect(unnamed).not.toContain('llvmpipe');
    expect(unnamed).toMatch(/vulkan: loaded from .*no device: .*GGML_VK_VISIBLE_DEVICES/);
  });

  for (const type of ['f32', 'f16'] as TinyModelType[]) {
    describe(`${type.toUpperCase()} weights`, () => {
      const TOL = TOLERANCE[type]!;
      // Labels must agree where HF's top-2 gap is wider than both sides can move.
      const TIE_GAP = 2 * TOL;
      let vulkan: LogClassifier;
      let cpu: LogClassifier;
      let onCpu: ClassificationResult[];
      beforeAll(async () => {
        vulkan = await LogClassifier.open(tinyModel(type), { ...parseOptions, gpu: 'vulkan' });
        cpu = await LogClassifier.open(tinyModel(type), { ...parseOptions, gpu: 'cpu' });
        onCpu = await cpu.classifyMany(cases.map((c) => c.text));
      });
      afterAll(async () => {
        await vulkan?.dispose();
        await cpu?.dispose();
      });

      it('offloads every layer to llvmpipe', () => {
        expect(vulkan.info.backend).toBe('Vulkan');
        expect(vulkan.info.device).toMatch(/llvmpipe/);
        expect(vulkan.info.gpuLayers).toBe(vulkan.info.nLayers + 1);
        // flashAttn 'auto' stays off on lavapipe: with it, F16 corrupted the heap (docs/gpu.md).
        expect(vulkan.info.flashAttn).toBe('disabled');
      });

      it('every fixture case lands within the bar of HF and of the CPU backend, labels equal except near-ties (prefix sharing on)', async () => {
        // Each case twice, so prefix sharing decodes every line once for two results.
        const results = await vulkan.classifyMany([...cases, ...cases].map((c) => c.text));
        expect(results).toHaveLength(2 * (EXPECTED_CASE_COUNT - 1));
        let labelsCompared = 0;
        results.forEach((r, k) => {
          const i = k % cases.length;
          const c = cases[i]!;
          expect(maxDiff([r], [reference(c)]), c.name).toBeLessThanOrEqual(TOL);
          expect(maxDiff([r], [onCpu[i]!]), c.name).toBeLessThanOrEqual(TOL);
          if (top2Gap(reference(c)) >= TIE_GAP) {
            expect(r.label, c.name).toBe(vulkan.labels[argmax(reference(c))]);
            labelsCompared++;
          }
        });
        // HF's top-2 gaps below 0.12: 0.039, 0.044 and 0.108.
        expect(labelsCompared).toBe(2 * (cases.length - (type === 'f32' ? 1 : 3)));
        const stats = vulkan.stats();
        expect(stats.tokensDecoded).toBeLessThan(stats.tokensIn);
      });

      it('prefix sharing off gives the same logits', async () => {
        const unshared = await LogClassifier.open(tinyModel(type), { ...parseOptions, gpu: 'vulkan', prefixSharing: false });
        try {
          const texts = [...handful, handful[3]!].map((c) => c.text);
          const [a, b] = [await unshared.classifyMany(texts), await vulkan.classifyMany(texts)];
          expect(maxDiff(a, b)).toBeLessThanOrEqual(TOL);
          expect(maxDiff(a, [...handful, handful[3]!].map(reference))).toBeLessThanOrEqual(TOL);
          expect(unshared.stats().tokensDecoded).toBe(unshared.stats().tokensIn);
        } finally {
          await unshared.dispose();
        }
      });

      // With F16 weights and flash attention this case aborted the process now and then (heap
      // corruption); flashAttn 'auto' now stays off on lavapipe (docs/gpu.md, src/engine/runtimePlan.ts).
      it('small batches, one by one and 12 concurrent callers give the same logits', async () => {
        const texts = handful.map((c) => c.text);
        const refs = handful.map(reference);
        const small = await LogClassifier.open(tinyModel(type), { ...parseOptions, gpu: 'vulkan', batchSize: 3, batchTokens: 64 });
        try {
          const oneBatch = await vulkan.classifyMany(texts);
          const oneByOne: ClassificationResult[] = [];
          for (const text of texts) oneByOne.push(await vulkan.classify(text));
          const concurrent = await Promise.all(Array.from({ length: 12 }, (_, i) => vulkan.classify(texts[i % texts.length]!)));
          const smallBatches = await small.classifyMany(texts);
          for (const results of [oneBatch, oneByOne, smallBatches]) {
            expect(maxDiff(results, oneBatch)).toBeLessThanOrEqual(TOL);
            expect(maxDiff(results, refs)).toBeLessThanOrEqual(TOL);
          }
          expect(maxDiff(concurrent, concurrent.map((_, i) => oneBatch[i % texts.length]!))).toBeLessThanOrEqual(TOL);
        } finally {
          await small.dispose();
        }
      });

      it('partial offload (the output, then one more of 3 layers, mixed CPU/Vulkan graphs) gives the same logits', async () => {
        const texts = handful.map((c) => c.text);
        const full = await vulkan.classifyMany(texts);
        for (const gpuLayers of [1, 2]) {
          const partial = await LogClassifier.open(tinyModel(type), { ...parseOptions, gpu: 'vulkan', gpuLayers });
          try {
            expect(partial.info.gpuLayers).toBe(gpuLayers);
            const results = await partial.classifyMany(texts);
            expect(maxDiff(results, full), `gpuLayers ${gpuLayers}`).toBeLessThanOrEqual(TOL);
            expect(maxDiff(results, handful.map(reference)), `gpuLayers ${gpuLayers}`).toBeLessThanOrEqual(TOL);
          } finally {
            await partial.dispose();
          }
        }
      });
    });
  }
});
