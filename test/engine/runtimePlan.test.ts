// SPDX-License-Identifier: MIT
// Every rule of the run-time plan, as a table over options, model facts and devices: no native
// build, no model load.
import { describe, expect, it } from 'vitest';
import { BackendError, ValidationError } from '../../src/errors.js';
import { LLAMA_FILE_TYPE } from '../../src/gguf/ggufTypes.js';
import type { GpuBackendProbe } from '../../src/engine/gpuBackends.js';
import type { NativeDevice } from '../../src/engine/native.js';
import { openOptionsSchema, type OpenOptions } from '../../src/options.js';
import { DECODES_PER_CALL, planRuntime, summarizePlan, type MachineFacts, type ModelFacts } from '../../src/engine/runtimePlan.js';

const device = (name: string, backend: string, type: NativeDevice['type'] = 'gpu'): NativeDevice => ({
  name,
  description: `${name} card`,
  type,
  backend,
  memoryFree: 0,
  memoryTotal: 0,
});
const CPU = device('CPU', 'CPU', 'cpu');
const CUDA = device('CUDA0', 'CUDA');
const VULKAN = device('Vulkan0', 'Vulkan');
const LAVAPIPE: NativeDevice = { ...VULKAN, description: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
const CUDA_FAILED: GpuBackendProbe = { backend: 'cuda', path: 'libggml-cuda.so', loaded: false, error: 'libcuda.so.1: cannot open shared object file', install: 'npm install @node-llama-cpp/linux-x64-cuda@3.21.1' };
const NOT_INSTALLED: GpuBackendProbe = { backend: 'vulkan', path: '@node-llama-cpp/linux-x64-vulkan', loaded: false, error: 'not installed', install: 'npm install @node-llama-cpp/linux-x64-vulkan@3.21.1' };

// A Qwen2 0.5B-like model: 24 layers, 64-wide heads, 32k training context.
const F16: ModelFacts = { fileType: LLAMA_FILE_TYPE.MOSTLY_F16, nEmbd: 896, nHead: 14, nLayers: 24, nCtxTrain: 32_768, cpuRepacks: false, partlyRead: [[4096, 140_000_000]] };
const F32: ModelFacts = { ...F16, fileType: LLAMA_FILE_TYPE.ALL_F32 };
const Q8: ModelFacts = { ...F16, fileType: LLAMA_FILE_TYPE.MOSTLY_Q8_0 };
const Q4: ModelFacts = { ...F16, fileType: LLAMA_FILE_TYPE.MOSTLY_Q4_0, cpuRepacks: true };
const Q4_NARROW_HEADS: ModelFacts = { ...Q4, nEmbd: 64, nHead: 4 };

const machine = (devices: NativeDevice[], probes: GpuBackendProbe[] = [], hardware = false): MachineFacts => ({
  devices: [CPU, ...devices],
  backendProbes: probes,
  gpuHardwareLikely: () => hardware,
});
const CPU_ONLY = machine([]);

function plan(options: OpenOptions, model: ModelFacts = F16, where: MachineFacts = CPU_ONLY) {
  return planRuntime(openOptionsSchema.parse({ threads: 2, ...options }), model, where);
}

describe('planRuntime(): device and offload', () => {
  const cases: Array<[string, OpenOptions, MachineFacts, string | undefined, number]> = [
    ["'cpu' ignores GPUs", { gpu: 'cpu' }, machine([CUDA]), undefined, 0],
    ["'auto' without GPUs runs on the CPU", {}, CPU_ONLY, undefined, 0],
    ["'auto' prefers CUDA to Vulkan, whatever the device order", {}, machine([VULKAN, CUDA]), 'CUDA0', 25],
    ["'auto' takes an integrated GPU", {}, machine([device('Vulkan1', 'Vulkan', 'igpu')]), 'Vulkan1', 25],
    ["'vulkan' asked for gets Vulkan over CUDA", { gpu: 'vulkan' }, machine([CUDA, VULKAN]), 'Vulkan0', 25],
    ['gpuLayers is kept on a GPU', { gpuLayers: 10 }, machine([CUDA]), 'CUDA0', 10],
    ['gpuLayers is ignored without a GPU', { gpuLayers: 10 }, CPU_ONLY, undefined, 0],
  ];
  it.each(cases)('%s', (_, options, where, deviceName, gpuLayers) => {
    const p = plan(options, F16, where);
    expect(p.device.value?.name).toBe(deviceName);
    expect(p.gpuLayers.value).toBe(gpuLayers);
    expect(p.device.why.length).toBeGreaterThan(0);
    expect(p.gpuLayers.why.length).toBeGreaterThan(0);
  });

  it('an explicit backend with no device is a BackendError naming the devices and why each backend failed', () => {
    expect(() => plan({ gpu: 'cuda' }, F16, machine([VULKAN], [CUDA_FAILED]))).toThrow(BackendError);
    expect(() => plan({ gpu: 'cuda' }, F16, machine([VULKAN], [CUDA_FAILED]))).toThrow(
      /no cuda device was found; devices found: CPU \(CPU, cpu\), Vulkan0 \(Vulkan, gpu\); backends that did not load: cuda: libcuda/,
    );
  });

  it("'auto' falling back to the CPU carries a warning only where a backend failed on likely hardware", () => {
    expect(plan({}, F16, machine([], [CUDA_FAILED], true)).gpuFallback).toMatch(/^No usable GPU backend \(cuda: libcuda.*running on the CPU\.$/);
    expect(plan({}, F16, machine([], [CUDA_FAILED], false)).gpuFallback).toBeUndefined();
    expect(plan({}, F16, machine([], [NOT_INSTALLED], true)).gpuFallback).toBeUndefined();
    expect(plan({}, F16, machine([CUDA], [NOT_INSTALLED, CUDA_FAILED], true)).gpuFallback).toBeUndefined();
  });
});

describe('planRuntime(): memory map, flash attention, KV cache', () => {
  const cases: Array<[string, OpenOptions, ModelFacts, MachineFacts, boolean, boolean | 'auto', string]> = [
    ['F32: no flash attention, F32 cache, mapped', {}, F32, CPU_ONLY, true, false, 'f32'],
    ['F16: flash attention left to llama.cpp, F16 cache', {}, F16, CPU_ONLY, true, 'auto', 'f16'],
    ['Q8_0: F16 cache', {}, Q8, CPU_ONLY, true, 'auto', 'f16'],
    ['Q4_0 on the CPU: read (repacked), Q8_0 cache', {}, Q4, CPU_ONLY, false, 'auto', 'q8_0'],
    ['Q4_0 on a GPU: mapped (nothing repacked)', {}, Q4, machine([CUDA]), true, 'auto', 'q8_0'],
    ['Q4_0 with 16-wide heads: F16 cache', {}, Q4_NARROW_HEADS, CPU_ONLY, false, 'auto', 'f16'],
    ['Q4_0 with flash attention off: F16 cache', { flashAttn: false }, Q4, CPU_ONLY, false, false, 'f16'],
    ['explicit values win', { useMmap: true, flashAttn: true, kvCacheType: 'f32' }, Q4, CPU_ONLY, true, true, 'f32'],
    ['flashAttn true on F32 is kept', { flashAttn: true }, F32, CPU_ONLY, true, true, 'f32'],
    ['F16 on lavapipe: no flash attention (it corrupted the heap), F16 cache', { gpu: 'vulkan' }, F16, machine([LAVAPIPE]), true, false, 'f16'],
    ['F16 on a hardware Vulkan device: flash attention left to llama.cpp', { gpu: 'vulkan' }, F16, machine([VULKAN]), true, 'auto', 'f16'],
  ];
  it.each(cases)('%s', (_, options, model, where, useMmap, flashAttn, kvType) => {
    const p = plan(options, model, where);
    expect([p.useMmap.value, p.flashAttn.value, p.kvType.value]).toEqual([useMmap, flashAttn, kvType]);
    // The embedding's mapped pages are handed back exactly when the file is mapped, on Linux.
    expect(p.releasePages.value).toEqual(useMmap && process.platform === 'linux' ? model.partlyRead : []);
    expect(plan(options, model, { ...where, platform: 'darwin' }).releasePages.value).toEqual([]);
  });
});

describe('planRuntime(): flash attention on a software Vulkan device', () => {
  it('refuses flashAttn: true on lavapipe (it corrupted the heap), and takes false', () => {
    expect(() => plan({ gpu: 'vulkan', flashAttn: true }, F16, machine([LAVAPIPE]))).toThrow(ValidationError);
    expect(() => plan({ gpu: 'vulkan', flashAttn: true }, F16, machine([LAVAPIPE]))).toThrow(/software Vulkan device \(llvmpipe.*leave it 'auto' or set false/);
    expect(plan({ gpu: 'vulkan', flashAttn: false }, F16, machine([LAVAPIPE])).flashAttn.value).toBe(false);
    expect(plan({ gpu: 'vulkan', flashAttn: true }, F16, machine([VULKAN])).flashAttn.value).toBe(true);
  });
});

describe('planRuntime(): sizes and queue budgets', () => {
  const cases: Array<[string, OpenOptions, ModelFacts, MachineFacts, Record<string, number>]> = [
    ['defaults on the CPU: the context holds the work, longer lines get their own', {}, F16, CPU_ONLY, { maxTokens: 2048, nCtx: 1024, longLineCells: 2048, nBatch: 512, nUbatch: 256, nSeqMax: 32, prefixCacheCells: 512 }],
    ['defaults on a GPU: 512-token graphs', {}, F16, machine([CUDA]), { nUbatch: 512 }],
    ['a short training context caps maxTokens, and maxTokens caps the batch', {}, { ...F16, nCtxTrain: 128 }, CPU_ONLY, { maxTokens: 128, nCtx: 128 + 512, nBatch: 128, nUbatch: 128, nSeqMax: 32 }],
    ['without the prefix cache the context is the longest line', { prefixCache: false }, { ...F16, nCtxTrain: 128 }, CPU_ONLY, { nCtx: 128, longLineCells: 0, prefixCacheCells: 0 }],
    ['prefixSharing: false turns the prefix cache off too', { prefixSharing: false }, F16, CPU_ONLY, { nCtx: 512, longLineCells: 2048, prefixCacheCells: 0 }],
    ['a prefix cache budget: a full batch fits beside it, and the longest line', { prefixCache: { cells: 2000 } }, F16, CPU_ONLY, { nCtx: 512 + 2000, longLineCells: 0, prefixCacheCells: 2000 }],
    ['batchTokens above maxTokens: the context holds a full batch', { maxTokens: 64, batchTokens: 4096, prefixCache: false }, F16, CPU_ONLY, { nCtx: 64, nBatch: 64, nSeqMax: 32 }],
    ['a large batch: the context grows to it and the prefix cache', { batchTokens: 4096 }, F16, CPU_ONLY, { maxTokens: 2048, nCtx: 2048 + 512, nBatch: 2048 }],
    ['batchSize over nBatch is cut to it (llama.cpp asserts otherwise)', { batchSize: 64, batchTokens: 16 }, F16, CPU_ONLY, { nBatch: 16, nSeqMax: 16 }],
    ['ubatchTokens is kept below nBatch', { ubatchTokens: 64 }, F16, CPU_ONLY, { nUbatch: 64 }],
    ['ubatchTokens over nBatch is cut to it', { ubatchTokens: 1024 }, F16, CPU_ONLY, { nUbatch: 512 }],
  ];
  it.each(cases)('%s', (_, options, model, where, expected) => {
    const p = plan(options, model, where);
    const values = Object.fromEntries(Object.keys(expected).map((k) => [k, (p as unknown as Record<string, { value: number }>)[k]!.value]));
    expect(values).toEqual(expected);
    expect(p.linesPerCall.value).toBe(p.nSeqMax.value * DECODES_PER_CALL);
    expect(p.tokensPerCall.value).toBe(p.nBatch.value * DECODES_PER_CALL);
  });

  it('maxTokens over the training context is a ValidationError', () => {
    expect(() => plan({ maxTokens: 4096 }, { ...F16, nCtxTrain: 2048 })).toThrow(ValidationError);
    expect(() => plan({ maxTokens: 4096 }, { ...F16, nCtxTrain: 2048 })).toThrow("maxTokens 4096 is more than the model's training context 2048");
  });
});

describe('planRuntime(): threads', () => {
  const cases: Array<[string, OpenOptions, number | undefined, number, boolean]> = [
    ["'auto' starts at the physical cores and adapts", { threads: 'auto', gpu: 'cpu' }, 4, 4, true],
    ["'auto' is the default", { gpu: 'cpu' }, 8, 8, true],
    ["'auto' with one core has nothing to adapt", { threads: 'auto', gpu: 'cpu' }, 1, 1, false],
    ['a number is kept fixed', { threads: 3, gpu: 'cpu' }, 8, 3, false],
    ['a number above the cores is kept too', { threads: 16, gpu: 'cpu' }, 2, 16, false],
    ["'auto' with every layer on a GPU does not adapt", { gpu: 'cuda' }, 4, 4, false],
    ["'auto' with some layers on the CPU adapts", { gpu: 'cuda', gpuLayers: 10 }, 4, 4, true],
  ];
  it.each(cases)('%s', (_, options, cores, threads, adapt) => {
    const p = planRuntime(openOptionsSchema.parse(options), F16, { ...machine([CUDA]), cores });
    expect([p.threads.value, p.adaptThreads.value]).toEqual([threads, adapt]);
    expect(p.adaptThreads.why).toMatch(/\w/);
  });
});

describe('summarizePlan()', () => {
  it('names the device and gives every choice a reason', () => {
    const summary = summarizePlan(plan({}, Q4, machine([CUDA])));
    expect(summary.device).toEqual({ value: 'CUDA0 (CUDA)', why: expect.stringContaining("'auto'") });
    expect(summarizePlan(plan({})).device.value).toBe('CPU');
    const entries = Object.entries(summary);
    expect(entries).toHaveLength(17);
    for (const [key, choice] of entries) expect(choice.why, key).toMatch(/\w/);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });
});
