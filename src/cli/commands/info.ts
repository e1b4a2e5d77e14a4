// SPDX-License-Identifier: MIT
// `logtriage info [model] [--devices] [--plan] [--json]`: what a model is, read from its GGUF header
// (validated as a logtriage model, never loaded into llama.cpp), with --devices the ggml
// backends and devices, and with --plan the run-time plan open() would make here with default
// options (runtimePlan.ts), each choice with why. Text for people by default, JSON with --json.
import { existsSync } from 'node:fs';
import { gpuBackendProbes, loadBinding, machineFacts } from '../../engine/binding.js';
import { describeCalibration } from '../../calibration/applyCalibration.js';
import type { CalibrationRecord } from '../../gguf/calibrationKeys.js';
import type { AdaptRecord } from '../../gguf/adaptKeys.js';
import { chooseDevice, noDeviceHint } from '../../engine/chooseDevice.js';
import { ModelLoadError } from '../../errors.js';
import { readGgufHeader, validateLogtriageModel, type DigestCoverage, type GgufHeader } from '../../gguf/index.js';
import { KEY } from '../../gguf/modelKeys.js';
import { resolveModel } from '../../hub/index.js';
import { gpuBackendHint, type GpuBackendProbe } from '../../engine/gpuBackends.js';
import type { NativeDevice } from '../../engine/native.js';
import { openOptionsSchema, parseOptions } from '../../options.js';
import { modelFacts, planRuntime, summarizePlan, type PlanSummary } from '../../engine/runtimePlan.js';
import { escapeJsonForTerminal, escapeTerminal, escapeTerminalText } from '../output/escapeTerminal.js';

export interface InfoCommandOptions {
  /** GGUF path or pulled hub repo id; undefined: the default model, unless only --devices was asked. */
  model?: string;
  devices?: boolean;
  /** Also the run-time plan with default options on this machine (loads the addon). */
  plan?: boolean;
  json?: boolean;
}

export interface ModelDescription {
  path: string;
  name?: string;
  architecture: string;
  labels: string[];
  /** Every weight, the classification head included. */
  parameters: number;
  /** llama.cpp's file type (general.file_type), e.g. F16 or Q8_0. */
  weightType: string;
  /** Parameters per tensor type, largest first. */
  tensorTypes: Record<string, number>;
  /** Training context length in tokens. */
  contextLength: number;
  layers: number;
  embeddingLength: number;
  feedForwardLength: number;
  attentionHeads: number;
  kvHeads: number;
  /** The classification head: [labels, embedding length], F32, with or without bias. */
  head: { shape: [number, number]; bias: boolean };
  tokenizer: { model: string; preTokenizer: string; vocabSize: number; merges: number; eosTokenId: number; padTokenId?: number };
  fileSizeBytes: number;
  formatVersion: number;
  /** `logtriage.calibration.*`, which open() applies by default; absent when never calibrated. */
  calibration?: CalibrationRecord;
  /** `logtriage.adapt.*`: how `logtriage adapt` fitted the head; absent for a converted head. */
  adapt?: AdaptRecord;
  /** What the content digest covers (its shape only: `logtriage verify` compares it); null when the file has none. */
  digest: DigestCoverage | null;
}

/** llama_ftype (include/llama.h) by value; absent values were removed from llama.cpp. */
const LLAMA_FTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S',
  29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE', 39: 'NVFP4',
  40: 'Q1_0', 41: 'Q2_0',
};

function stringValue(header: GgufHeader, key: string): string {
  const v = header.metadata.get(key);
  return v?.type === 'string' ? v.value : '';
}

function mergeCount(header: GgufHeader): number {
  const v = header.metadata.get(KEY.merges);
  return v?.type === 'array' ? v.value.length : 0;
}

/** Describes the GGUF at `path` from its header; throws ModelFormatError when it is not a logtriage model. */
export async function describeModel(path: string): Promise<ModelDescription> {
  if (!existsSync(path)) throw new ModelLoadError(`Model file not found: ${path}`);
  const header = await readGgufHeader(path);
  const meta = validateLogtriageModel(header);
  const tensorTypes = new Map<string, number>();
  let parameters = 0;
  for (const tensor of header.tensors) {
    const n = tensor.ne.reduce((a, b) => a * b, 1);
    parameters += n;
    tensorTypes.set(tensor.type.name, (tensorTypes.get(tensor.type.name) ?? 0) + n);
  }
  // The head lives in metadata as F32 (docs/model-format.md).
  const headParameters = meta.head.weight.length + (meta.head.bias?.length ?? 0);
  parameters += headParameters;
  tensorTypes.set('F32', (tensorTypes.get('F32') ?? 0) + headParameters);
  return {
    path,
    ...(meta.name !== undefined ? { name: meta.name } : {}),
    architecture: meta.arch,
    labels: meta.labels,
    parameters,
    weightType: LLAMA_FTYPE_NAMES[meta.fileType] ?? `file type ${meta.fileType}`,
    tensorTypes: Object.fromEntries([...tensorTypes].sort((a, b) => b[1] - a[1])),
    contextLength: meta.nCtxTrain,
    layers: meta.nLayers,
    embeddingLength: meta.nEmbd,
    feedForwardLength: meta.nFf,
    attentionHeads: meta.nHead,
    kvHeads: meta.nHeadKv,
    head: { shape: [meta.head.nLabels, meta.head.nEmbd], bias: meta.head.bias !== undefined },
    tokenizer: {
      model: stringValue(header, KEY.tokenizerModel),
      preTokenizer: stringValue(header, KEY.tokenizerPre),
      vocabSize: meta.nVocab,
      merges: mergeCount(header),
      eosTokenId: meta.eosTokenId,
      ...(meta.padTokenId !== undefined ? { padTokenId: meta.padTokenId } : {}),
    },
    fileSizeBytes: header.fileSize,
    formatVersion: meta.formatVersion,
    ...(meta.calibration ? { calibration: meta.calibration } : {}),
    ...(meta.adapt ? { adapt: meta.adapt } : {}),
    digest: meta.digest ?? null,
  };
}

const e = escapeTerminal;
const count = (n: number) => n.toLocaleString('en-US');

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

function calibrationLine(record: CalibrationRecord | undefined): string {
  if (record === undefined) return 'none (scores are the raw softmax; see `logtriage calibrate`)';
  const f = (x: number) => x.toFixed(4);
  return `${describeCalibration(record.calibration)}; fitted on ${count(record.lines)} lines: NLL ${f(record.nllBefore)} → ${f(record.nllAfter)}, ECE ${f(record.eceBefore)} → ${f(record.eceAfter)}`;
}

function adaptLines(record: AdaptRecord | undefined, labels: readonly string[]): Array<[string, string]> {
  if (record === undefined) return [];
  const f = (x: number) => x.toFixed(4);
  const perLabel = labels.map((l, k) => `${e(l)} ${record.linesPerLabel[k]}`).join(', ');
  const total = record.linesPerLabel.reduce((a, b) => a + b, 0);
  return [
    ['adapted', `head fitted by \`logtriage adapt\` on ${e(record.date)} from base sha256 ${e(record.baseSha256)}`],
    ['adapt lines', `${count(total)} (${perLabel}), L2 ${Number(record.l2.toPrecision(6))}, ${e(record.validation)}`],
    [
      'adapt held-out',
      `${count(record.heldOutLines)} lines, ${record.baseline} → new head: accuracy ${f(record.before.accuracy)} → ${f(record.after.accuracy)}, ` +
        `macro-F1 ${f(record.before.macroF1)} → ${f(record.after.macroF1)}, NLL ${f(record.before.nll)} → ${f(record.after.nll)}`,
    ],
  ];
}

function digestLine(digest: DigestCoverage | null): string {
  if (digest === null) return 'none: unverifiable (`logtriage verify` exits 3); files from `logtriage convert` and `calibrate` carry one';
  return `SHA-256 of ${count(digest.tensors)} tensors and ${count(digest.metadataKeys)} metadata keys (version ${digest.version}; \`logtriage verify\` checks it)`;
}

/** The description as aligned `key  value` lines; strings from the file are escaped for the terminal. */
export function formatModelDescription(d: ModelDescription): string {
  const share = (n: number) => (n / d.parameters < 0.001 ? '<0.1%' : `${((100 * n) / d.parameters).toFixed(1)}%`);
  const types = Object.entries(d.tensorTypes).map(([type, n]) => `${type} ${share(n)}`).join(', ');
  const tokenizer = d.tokenizer;
  const rows: Array<[string, string]> = [
    ['model', e(d.path)],
    ...(d.name !== undefined ? ([['name', e(d.name)]] as Array<[string, string]>) : []),
    ['architecture', `${e(d.architecture)}: ${d.layers} layers, embedding ${d.embeddingLength}, feed-forward ${d.feedForwardLength}, ${d.attentionHeads} attention heads (${d.kvHeads} KV)`],
    ['parameters', `${humanCount(d.parameters)} (${count(d.parameters)}, head included)`],
    ['weight type', `${d.weightType} (${types})`],
    ['context size', `${count(d.contextLength)} tokens (training)`],
    ['labels', `${d.labels.length}: ${d.labels.map(e).join(', ')}`],
    ['head', `[${d.head.shape.join(', ')}] F32 ${d.head.bias ? 'with' : 'without'} bias`],
    [
      'tokenizer',
      `${e(tokenizer.model)} BPE, pre-tokenizer ${e(tokenizer.preTokenizer)}, ${count(tokenizer.vocabSize)} tokens, ${count(tokenizer.merges)} merges, ` +
        `eos ${tokenizer.eosTokenId}${tokenizer.padTokenId !== undefined ? `, pad ${tokenizer.padTokenId}` : ''}`,
    ],
    ['file size', `${humanSize(d.fileSizeBytes)} (${count(d.fileSizeBytes)} bytes)`],
    ['format', `logtriage GGUF v${d.formatVersion}`],
    ['calibration', calibrationLine(d.calibration)],
    ...adaptLines(d.adapt, d.labels),
    ['digest', digestLine(d.digest)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function formatDevices(devices: NativeDevice[], probes: readonly GpuBackendProbe[], llamaRelease: string): string {
  const { verdicts } = chooseDevice(devices, 'auto');
  const lines = devices.map((d, i) => {
    const memory = d.memoryTotal > 0 ? `, ${gib(d.memoryFree)} free of ${gib(d.memoryTotal)}` : '';
    return `  ${e(d.name)} (${e(d.backend)}, ${d.type}${memory}): ${e(d.description)}\n    ${verdicts[i]!.reason}\n`;
  });
  const backends = probes.map((p) => {
    const hint = p.loaded && !devices.some((d) => d.backend.toLowerCase() === p.backend) ? noDeviceHint(p.backend) : undefined;
    const state = p.loaded ? `loaded from ${e(p.path)}${hint ? `, no device: ${hint}` : ''}` : `not loaded (${e(p.error ?? 'unknown')})${gpuBackendHint(p)}`;
    return `  ${p.backend}: ${state}\n`;
  });
  return `llama.cpp ${e(llamaRelease)}; devices, each with what gpu: 'auto' makes of it:\n${lines.join('') || '  none\n'}${backends.length > 0 ? `GPU backends:\n${backends.join('')}` : ''}`;
}

/** The plan LogClassifier.open(path) would make with default options on this machine. */
export async function defaultPlan(path: string): Promise<PlanSummary> {
  const header = await readGgufHeader(path);
  const opts = parseOptions(openOptionsSchema, {}, 'options');
  return summarizePlan(planRuntime(opts, modelFacts(validateLogtriageModel(header), header), machineFacts(loadBinding(), opts.gpu)));
}

function formatPlan(plan: PlanSummary): string {
  const width = Math.max(...Object.keys(plan).map((k) => k.length));
  const rows = Object.entries(plan).map(([key, { value, why }]) => `  ${key.padEnd(width)}  ${e(String(value))}: ${e(why)}\n`);
  return `plan (default options on this machine):\n${rows.join('')}`;
}

export async function infoCommand(options: InfoCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const devicesOnly = options.devices === true && options.model === undefined;
  const model = devicesOnly ? undefined : await describeModel(resolveModel(options.model));
  const binding = options.devices ? loadBinding() : undefined;
  const devices = binding?.devices();
  const plan = model !== undefined && options.plan ? await defaultPlan(model.path) : undefined;

  if (options.json) {
    const json = {
      ...(model !== undefined ? { model } : {}),
      ...(plan !== undefined ? { plan } : {}),
      ...(binding !== undefined
        ? { llamaRelease: binding.llamaRelease, devices, gpuAuto: chooseDevice(devices!, 'auto').verdicts, gpuBackends: gpuBackendProbes(), systemInfo: binding.systemInfo().trim() }
        : {}),
    };
    out.write(`${escapeJsonForTerminal(JSON.stringify(json, null, 2))}\n`);
    return;
  }
  let text = model !== undefined ? formatModelDescription(model) : '';
  if (plan !== undefined) text += `\n${formatPlan(plan)}`;
  if (binding !== undefined) text += `${text ? '\n' : ''}${formatDevices(devices!, gpuBackendProbes(), binding.llamaRelease)}`;
  out.write(escapeTerminalText(text));
}
