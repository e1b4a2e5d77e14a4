// SPDX-License-Identifier: MIT
// The run-time plan of LogClassifier.open(): every choice that follows from the options, the
// model and this machine (device, offload, mmap, attention, KV cache, context and batch sizes,
// queue budgets), made without native code so a table test covers each rule. Every choice
// carries why it was made; `classifier.info.plan` and `logtriage info --plan` show them.
// A new choice is one `decide...` function and one line in planRuntime().
import { BackendError, ValidationError } from '../errors.js';
import { BACKEND_PREFERENCE, chooseDevice, isSoftwareDevice, noDeviceHint } from './chooseDevice.js';
import { cpuMayRepack } from './cpuRepack.js';
import { LLAMA_FILE_TYPE, type ByteSpan, type GgufHeader } from '../gguf/ggufTypes.js';
import type { LogtriageModelInfo } from '../gguf/validateLogtriageModel.js';
import type { GpuBackendProbe } from './gpuBackends.js';
import type { NativeDevice, NativeKvType } from './native.js';
import type { ResolvedOpenOptions } from '../options.js';
import { physicalCores } from './physicalCores.js';

/** One decision: its value and the rule that gave it. */
export interface Choice<T> {
  value: T;
  why: string;
}

/** What the plan needs to know about the model (from its GGUF header). */
export interface ModelFacts {
  /** llama_ftype (general.file_type). */
  fileType: number;
  nEmbd: number;
  nHead: number;
  nLayers: number;
  nCtxTrain: number;
  /** The CPU backend would repack some of its matrices at load (see cpuRepack.ts). */
  cpuRepacks: boolean;
  /** File spans of the matrices a decode reads in part or not at all (see PARTLY_READ). */
  partlyRead: readonly ByteSpan[];
}

/**
 * The token embedding is read a row per token in use, and the output matrix (untied models) never:
 * the decode stops at the final norm (native/Context.h). llama.cpp maps the file with MAP_POPULATE,
 * so without handing these pages back all of them stay resident: 248 MiB of a 1.5B Q8_0 file.
 */
const PARTLY_READ: ReadonlySet<string> = new Set(['token_embd.weight', 'output.weight']);

/** The model facts of a validated GGUF header. */
export function modelFacts(meta: LogtriageModelInfo, header: Pick<GgufHeader, 'tensors' | 'dataOffset'>): ModelFacts {
  const partlyRead = header.tensors.filter((t) => PARTLY_READ.has(t.name)).map((t): ByteSpan => [header.dataOffset + t.offset, header.dataOffset + t.offset + t.byteSize]);
  return { fileType: meta.fileType, nEmbd: meta.nEmbd, nHead: meta.nHead, nLayers: meta.nLayers, nCtxTrain: meta.nCtxTrain, cpuRepacks: cpuMayRepack(header.tensors), partlyRead };
}

/** What the plan needs to know about this machine. */
export interface MachineFacts {
  devices: readonly NativeDevice[];
  /** What loading each installed GPU backend gave (binding.ts gpuBackendProbes()). */
  backendProbes: readonly GpuBackendProbe[];
  /** Whether GPU hardware for a backend seems present (gpuBackends.ts gpuHardwareLikely). */
  gpuHardwareLikely: (backend: string) => boolean;
  /** Physical cores available to this process (default: physicalCores()). */
  cores?: number;
  /** Default: process.platform. */
  platform?: NodeJS.Platform;
}

export interface RuntimePlan {
  /** The GPU device to run on; undefined: the CPU. */
  device: Choice<NativeDevice | undefined>;
  gpuLayers: Choice<number>;
  useMmap: Choice<boolean>;
  /** File spans whose mapped pages are handed back after load (native/MappedPages.h). */
  releasePages: Choice<readonly ByteSpan[]>;
  flashAttn: Choice<boolean | 'auto'>;
  kvType: Choice<NativeKvType>;
  /** Most tokens per line. */
  maxTokens: Choice<number>;
  /** llama.cpp n_ctx, n_batch, n_ubatch, n_seq_max. */
  nCtx: Choice<number>;
  nBatch: Choice<number>;
  nUbatch: Choice<number>;
  nSeqMax: Choice<number>;
  /** KV cells the cross-call prefix cache may keep (0: off). */
  prefixCacheCells: Choice<number>;
  /** KV cells of the context opened for a call whose lines exceed nCtx (routeLongLines.ts); 0: nCtx holds the longest line. */
  longLineCells: Choice<number>;
  /** CPU threads llama.cpp starts with, and the most the run-time adaptation goes to. */
  threads: Choice<number>;
  /** Whether the thread count adapts at run time (adaptThreads.ts). */
  adaptThreads: Choice<boolean>;
  /** Budgets of one native classify() call (BatchQueue limits). */
  linesPerCall: Choice<number>;
  tokensPerCall: Choice<number>;
  /** Set when gpu 'auto' falls back to the CPU although GPU hardware seems present: the text of a warning. */
  gpuFallback?: string;
}

/** A plan choice as `info` shows it: the device by name, every value printable. */
export type PlanSummary = Record<Exclude<keyof RuntimePlan, 'gpuFallback'>, { value: string | number | boolean; why: string }>;

/** MiB in `spans`, rounded, as the plan prints it. */
const mibOf = (spans: readonly ByteSpan[]) => (spans.reduce((n, [start, end]) => n + end - start, 0) / 2 ** 20).toFixed(0);

function decideReleasePages(model: ModelFacts, useMmap: boolean, platform: NodeJS.Platform): Choice<readonly ByteSpan[]> {
  if (!useMmap) return { value: [], why: 'the weights are read into memory: no mapped pages to hand back' };
  if (platform !== 'linux') return { value: [], why: `mapped pages are handed back on Linux only (this is ${platform})` };
  if (model.partlyRead.length === 0) return { value: [], why: 'no token embedding or output matrix in the file' };
  return {
    value: model.partlyRead,
    why: `mapped: the ${mibOf(model.partlyRead)} MiB of the token embedding (read a row per token in use) and any output matrix (never read) are handed back after load, not kept resident`,
  };
}

/**
 * How many decodes' worth of lines and tokens BatchQueue hands to one native classify() call.
 * The addon splits a call into decodes of at most n_batch tokens and n_seq_max lines
 * (native/DecodePlan.h), so a larger call needs no more llama.cpp memory. It pays the per-call
 * cost (a thread-pool hop, a promise, copying tokens in and logits out, the context mutex) once
 * per several decodes, and prefix sharing sorts a whole call, so lines with a common prefix find
 * each other across that many decodes' worth of arrivals. It stays small because the lines of a
 * running call can no longer be aborted and later lines cannot join it: they wait for the whole
 * call. 4 is the value chosen when the queue was written (d2c60ce), not a measured optimum.
 */
export const DECODES_PER_CALL = 4;

const EIGHT_BIT_OR_MORE: ReadonlySet<number> = new Set([LLAMA_FILE_TYPE.MOSTLY_F16, LLAMA_FILE_TYPE.MOSTLY_BF16, LLAMA_FILE_TYPE.MOSTLY_Q8_0]);
// maxTokens default (options.ts documents it); the context, and so the KV cache, is sized to it.
export const DEFAULT_MAX_TOKENS = 2048;
// ubatchTokens default: on the CPU 256 is as fast as 512 and peaks ~40 MiB lower; GPUs want wider graphs.
const DEFAULT_UBATCH = { cpu: 256, gpu: 512 } as const;

function decideDevice(gpu: ResolvedOpenOptions['gpu'], machine: MachineFacts): { device: Choice<NativeDevice | undefined>; gpuFallback?: string } {
  if (gpu === 'cpu') return { device: { value: undefined, why: "gpu: 'cpu'" } };
  const { device: chosen, verdicts } = chooseDevice(machine.devices, gpu);
  const failed = machine.backendProbes.filter((p) => !p.loaded);
  const unusable = failed.map((p) => `${p.backend}: ${p.error ?? 'failed to load'}`);
  if (chosen) return { device: { value: chosen, why: verdicts.find((v) => v.chosen)!.reason + `, backends preferred in the order ${BACKEND_PREFERENCE.join(', ')}` } };
  if (gpu === 'auto') {
    const passedOver = verdicts.filter((v) => v.reason.startsWith('a software')).map((v) => `${v.name}: ${v.reason}`);
    const notLoaded = unusable.length > 0 ? ` (backends that did not load: ${unusable.join('; ')})` : '';
    const skipped = passedOver.length > 0 ? ` (${passedOver.join('; ')})` : '';
    const device: Choice<undefined> = { value: undefined, why: `gpu: 'auto' and no hardware GPU device found${skipped}${notLoaded}` };
    // Silent on machines without GPU hardware, where the optional GPU packages are installed anyway.
    const worthWarning = failed.some((p) => p.error !== 'not installed' && machine.gpuHardwareLikely(p.backend));
    return worthWarning ? { device, gpuFallback: `No usable GPU backend (${unusable.join('; ')}); running on the CPU.` } : { device };
  }
  const list = machine.devices.map((d) => `${d.name} (${d.backend}, ${d.type})`).join(', ') || 'none';
  const why = unusable.length > 0 ? `; backends that did not load: ${unusable.join('; ')}` : '';
  const hint = machine.backendProbes.some((p) => p.loaded && p.backend === gpu) ? noDeviceHint(gpu) : undefined;
  throw new BackendError(`gpu: '${gpu}' was requested but no ${gpu} device was found; devices found: ${list}${why}${hint ? `; ${hint}` : ''}`);
}

function decideGpuLayers(opts: ResolvedOpenOptions, model: ModelFacts, onGpu: boolean): Choice<number> {
  if (!onGpu) return { value: 0, why: 'no GPU device: every layer runs on the CPU' };
  if (opts.gpuLayers !== undefined) return { value: opts.gpuLayers, why: `gpuLayers: ${opts.gpuLayers}` };
  return { value: model.nLayers + 1, why: `all ${model.nLayers} layers and the output layer offloaded` };
}

function decideUseMmap(opts: ResolvedOpenOptions, model: ModelFacts, gpuLayers: number): Choice<boolean> {
  if (opts.useMmap !== 'auto') return { value: opts.useMmap, why: `useMmap: ${opts.useMmap}` };
  if (gpuLayers === 0 && model.cpuRepacks) {
    return { value: false, why: "'auto': the CPU backend repacks some of these weights, and mapped pages would stay resident beside the copy" };
  }
  return { value: true, why: "'auto': mapped (pages shared with the file cache; nothing is repacked on the CPU)" };
}

/**
 * Flash attention and KV cache precision, 'auto' resolved from the weights. F32 weights: neither
 * flash attention (its F16 internals break the 1e-4 parity) nor a narrower cache. Otherwise flash
 * attention where the device has it, and a cache of F16 for 8-bit weights and more, Q8_0 below
 * (its logit error, 0.10 on a 1.5B model, is small beside 4-bit weights' own, and it saves 28 MiB
 * per 2,048 cells; llama.cpp needs flash attention and 32-wide heads for it).
 */
function decideAttention(opts: ResolvedOpenOptions, model: ModelFacts, device: NativeDevice | undefined): { flashAttn: Choice<boolean | 'auto'>; kvType: Choice<NativeKvType> } {
  const f32Weights = model.fileType === LLAMA_FILE_TYPE.ALL_F32;
  const softwareVulkan = device?.backend === 'Vulkan' && isSoftwareDevice(device);
  if (opts.flashAttn === true && softwareVulkan) {
    // A known heap corruption is a crash waiting to happen; an embedding app must never get one.
    throw new ValidationError(`flashAttn: true on a software Vulkan device (${device.description}) corrupted the process heap now and then (docs/gpu.md); leave it 'auto' or set false`);
  }
  const flashAttn: Choice<boolean | 'auto'> =
    opts.flashAttn !== 'auto'
      ? { value: opts.flashAttn, why: `flashAttn: ${opts.flashAttn}` }
      : f32Weights
        ? { value: false, why: "'auto' with F32 weights: off, its F16 internals would break the 1e-4 HF parity" }
        : softwareVulkan
          ? { value: false, why: "'auto' on a software Vulkan device: off, with it the process heap got corrupted now and then (docs/gpu.md)" }
          : { value: 'auto', why: "'auto': llama.cpp enables it where the device supports it" };
  if (opts.kvCacheType !== 'auto') return { flashAttn, kvType: { value: opts.kvCacheType, why: `kvCacheType: '${opts.kvCacheType}'` } };
  if (f32Weights) return { flashAttn, kvType: { value: 'f32', why: "'auto' with F32 weights: F32, for exact parity" } };
  if (EIGHT_BIT_OR_MORE.has(model.fileType)) return { flashAttn, kvType: { value: 'f16', why: "'auto' with weights of 8 bits or more: F16" } };
  const headWidth = model.nEmbd / model.nHead;
  if (flashAttn.value === false) return { flashAttn, kvType: { value: 'f16', why: "'auto' below 8 bits, but a Q8_0 cache needs flash attention: F16" } };
  if (headWidth % 32 !== 0) return { flashAttn, kvType: { value: 'f16', why: `'auto' below 8 bits, but a Q8_0 cache needs 32-wide heads (these are ${headWidth}): F16` } };
  return { flashAttn, kvType: { value: 'q8_0', why: "'auto' with weights below 8 bits: Q8_0, whose error is small beside the weights' own, and 28 MiB less per 2,048 cells on a 1.5B model" } };
}

function decideMaxTokens(opts: ResolvedOpenOptions, model: ModelFacts): Choice<number> {
  if (opts.maxTokens === undefined) {
    return { value: Math.min(DEFAULT_MAX_TOKENS, model.nCtxTrain), why: `default: min(${DEFAULT_MAX_TOKENS}, training context ${model.nCtxTrain})` };
  }
  if (opts.maxTokens > model.nCtxTrain) {
    throw new ValidationError(`maxTokens ${opts.maxTokens} is more than the model's training context ${model.nCtxTrain}`);
  }
  return { value: opts.maxTokens, why: `maxTokens: ${opts.maxTokens}` };
}

function decidePrefixCacheCells(opts: ResolvedOpenOptions): Choice<number> {
  // prefixSharing: false is the every-token-computed baseline: no cells shared across calls either.
  if (!opts.prefixSharing) return { value: 0, why: 'prefixSharing: false turns the prefix cache off too' };
  if (opts.prefixCache === false) return { value: 0, why: 'prefixCache: false' };
  return { value: opts.prefixCache.cells, why: `prefixCache.cells ${opts.prefixCache.cells}` };
}

/**
 * threads 'auto': llama.cpp's threads spin at barriers, so a count above the free cores
 * collapses throughput (26x slower with 2 threads than 1 on a loaded 2-core host), and the free
 * cores change while a process runs. So 'auto' starts at the physical cores (the best on an idle
 * host: SMT siblings share the vector units) and adapts between 1 and that at run time. A number
 * is kept as it is: an operator who pins a count (one process per core, a CPU quota) gets it.
 */
function decideThreads(opts: ResolvedOpenOptions, machine: MachineFacts, allOnGpu: boolean): { threads: Choice<number>; adaptThreads: Choice<boolean> } {
  if (opts.threads !== 'auto') {
    return { threads: { value: opts.threads, why: `threads: ${opts.threads}` }, adaptThreads: { value: false, why: `threads: ${opts.threads} is kept fixed` } };
  }
  const cores = machine.cores ?? physicalCores();
  const threads = { value: cores, why: `'auto': the ${cores} physical core(s) available to this process, where it starts and the most it uses` };
  if (cores === 1) return { threads, adaptThreads: { value: false, why: "'auto' with one core: nothing to adapt" } };
  if (allOnGpu) return { threads, adaptThreads: { value: false, why: "'auto' with every layer on the GPU: the CPU threads barely work" } };
  return {
    threads,
    adaptThreads: {
      value: true,
      why: `'auto': moves between 1 and ${cores} threads to the count that decodes fastest now, since more threads than free cores spin at llama.cpp's barriers`,
    },
  };
}

/**
 * KV cells. llama.cpp clears the KV buffer at context creation, so all n_ctx cells are resident
 * for the context's life. The main context holds a full decode beside the prefix cache (llama.cpp
 * frees no cell a sequence holds: a decode that found no free cells beside the cache would fail
 * with KV_SLOT); a line longer than that, up to maxTokens, gets a context of its own for the call
 * that carries it (routeLongLines.ts).
 */
function decideContextSize(maxTokens: number, nBatch: number, cacheCells: number): { nCtx: Choice<number>; longLineCells: Choice<number> } {
  const work = nBatch + cacheCells;
  if (maxTokens <= work) {
    return {
      nCtx: { value: work, why: `a full batch (nBatch ${nBatch}) beside the prefix cache (${cacheCells}), which also holds the longest line (maxTokens ${maxTokens})` },
      longLineCells: { value: 0, why: 'the context holds the longest line' },
    };
  }
  return {
    nCtx: { value: work, why: `a full batch (nBatch ${nBatch}) beside the prefix cache (${cacheCells}): the cells are resident, so no more than the work needs` },
    longLineCells: { value: maxTokens, why: `a line of ${work + 1}-${maxTokens} tokens is decoded in a context of its own, opened for its call and freed after` },
  };
}

/** Every run-time choice of LogClassifier.open(); throws BackendError / ValidationError when the options cannot be met. */
export function planRuntime(opts: ResolvedOpenOptions, model: ModelFacts, machine: MachineFacts): RuntimePlan {
  const { device, gpuFallback } = decideDevice(opts.gpu, machine);
  const gpuLayers = decideGpuLayers(opts, model, device.value !== undefined);
  const useMmap = decideUseMmap(opts, model, gpuLayers.value);
  const { flashAttn, kvType } = decideAttention(opts, model, device.value);
  const maxTokens = decideMaxTokens(opts, model);
  const nBatch = Math.min(opts.batchTokens, maxTokens.value);
  const onGpu = gpuLayers.value > 0;
  const ubatch = opts.ubatchTokens ?? (onGpu ? DEFAULT_UBATCH.gpu : DEFAULT_UBATCH.cpu);
  const nSeqMax = Math.min(opts.batchSize, nBatch);
  const prefixCacheCells = decidePrefixCacheCells(opts);
  const { threads, adaptThreads } = decideThreads(opts, machine, gpuLayers.value > model.nLayers);
  return {
    device,
    gpuLayers,
    useMmap,
    releasePages: decideReleasePages(model, useMmap.value, machine.platform ?? process.platform),
    flashAttn,
    kvType,
    maxTokens,
    ...decideContextSize(maxTokens.value, nBatch, prefixCacheCells.value),
    nBatch: { value: nBatch, why: `batchTokens ${opts.batchTokens}, at most maxTokens` },
    nUbatch: {
      value: Math.min(ubatch, nBatch),
      why: `${opts.ubatchTokens !== undefined ? `ubatchTokens ${opts.ubatchTokens}` : `default ${ubatch} on the ${onGpu ? 'GPU' : 'CPU'}`}, at most nBatch`,
    },
    nSeqMax: { value: nSeqMax, why: `batchSize ${opts.batchSize}, at most nBatch: llama.cpp asserts if a decode may hold more outputs (one per line) than tokens` },
    prefixCacheCells,
    threads,
    adaptThreads,
    linesPerCall: { value: nSeqMax * DECODES_PER_CALL, why: `${DECODES_PER_CALL} decodes' worth of lines (nSeqMax x ${DECODES_PER_CALL}) per native call` },
    tokensPerCall: { value: nBatch * DECODES_PER_CALL, why: `${DECODES_PER_CALL} decodes' worth of tokens (nBatch x ${DECODES_PER_CALL}) per native call` },
    ...(gpuFallback !== undefined && { gpuFallback }),
  };
}

/** The plan as `info` shows it: JSON-friendly values, the device by name. */
export function summarizePlan({ device, releasePages, gpuFallback: _warning, ...choices }: RuntimePlan): PlanSummary {
  return {
    device: { value: device.value ? `${device.value.name} (${device.value.backend})` : 'CPU', why: device.why },
    releasePages: { value: `${mibOf(releasePages.value)} MiB`, why: releasePages.why },
    ...choices,
  };
}
