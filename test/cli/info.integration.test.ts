// SPDX-License-Identifier: MIT
// `logtriage info` through a real process: the JSON description checked against the HF
// checkpoint's config.json (parameters counted independently from its shapes), the text form,
// and a missing model as a one-line JSON error.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { artifactsDir, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

interface HfConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  max_position_embeddings: number;
  id2label: Record<string, string>;
  tie_word_embeddings: boolean;
}

/** Qwen2ForSequenceClassification's parameter count from its config (q/k/v have biases, the score head has none). */
function qwen2Parameters(c: HfConfig): number {
  const h = c.hidden_size;
  const kv = (h / c.num_attention_heads) * c.num_key_value_heads;
  const attention = h * h + h + 2 * (h * kv + kv) + h * h;
  const mlp = 3 * h * c.intermediate_size;
  const norms = 2 * h;
  const labels = Object.keys(c.id2label).length;
  return c.vocab_size * h + c.num_hidden_layers * (attention + mlp + norms) + h + labels * h + (c.tie_word_embeddings ? 0 : c.vocab_size * h);
}

describe('logtriage info', () => {
  it('--devices lists devices with memory and what each GPU backend package did', async () => {
    const r = await runCli(['info', '--devices', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      devices: Array<{ type: string; memoryTotal: number }>;
      gpuBackends: Array<{ backend: string; loaded: boolean; error?: string }>;
    };
    expect(info.devices.some((d) => d.type === 'cpu' && d.memoryTotal > 0)).toBe(true);
    for (const b of info.gpuBackends) expect(b.loaded || (b.error ?? '').length > 0, b.backend).toBe(true);
    if (process.platform === 'linux' && process.arch === 'x64') expect(info.gpuBackends.map((b) => b.backend).sort()).toEqual(['cuda', 'vulkan']);
  });

  it('describes a model from its GGUF header, as JSON and as text; a missing model is a JSON error', async () => {
    const config = JSON.parse(readFileSync(join(tinyCheckpointDir(), 'config.json'), 'utf8')) as HfConfig;
    const [json, text, missing] = await Promise.all([
      runCli(['info', tinyModel('f32'), '--json']),
      runCli(['info', '--model', tinyModel('q8_0')]),
      runCli(['info', join(artifactsDir, 'no-such-model.gguf'), '--json']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const { model } = JSON.parse(json.stdout);
    expect(model).toMatchObject({
      path: tinyModel('f32'),
      architecture: 'qwen2',
      labels: Object.keys(config.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => config.id2label[k]),
      parameters: qwen2Parameters(config),
      weightType: 'F32',
      contextLength: config.max_position_embeddings,
      layers: config.num_hidden_layers,
      embeddingLength: config.hidden_size,
      attentionHeads: config.num_attention_heads,
      kvHeads: config.num_key_value_heads,
      head: { shape: [Object.keys(config.id2label).length, config.hidden_size], bias: false },
      tokenizer: { model: 'gpt2', preTokenizer: 'qwen2', vocabSize: config.vocab_size },
      fileSizeBytes: statSync(tinyModel('f32')).size,
    });
    expect(model.tokenizer.merges).toBeGreaterThan(0);

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^weight type\s+Q8_0 \(Q8_0 /m);
    expect(text.stdout).toMatch(/^labels\s+5: Normal, Suspicious, Malicious, Informational, Error$/m);
    expect(text.stdout).toMatch(/^head\s+\[5, 64\] F32 without bias$/m);
    expect(text.stdout).toMatch(/^context size\s+32,768 tokens/m);

    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({ error: expect.stringMatching(/Model file not found: .*no-such-model\.gguf/), code: 'ERR_MODEL_LOAD' });
  });

  it('--plan adds the run-time plan with default options, every choice with a reason, as JSON and as text', async () => {
    const [json, text] = await Promise.all([runCli(['info', tinyModel('f32'), '--plan', '--json']), runCli(['info', tinyModel('q8_0'), '--plan'])]);
    expect(json.code, json.stderr).toBe(0);
    const { plan } = JSON.parse(json.stdout) as { plan: Record<string, { value: unknown; why: string }> };
    expect(Object.keys(plan)).toHaveLength(17);
    expect(plan).toMatchObject({ flashAttn: { value: false }, kvType: { value: 'f32' }, maxTokens: { value: 2048 }, nBatch: { value: 512 }, nSeqMax: { value: 32 } });
    for (const [key, choice] of Object.entries(plan)) expect(choice.why, key).toMatch(/\w/);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^plan \(default options on this machine\):$/m);
    expect(text.stdout).toMatch(/^ {2}kvType +f16: 'auto' with weights of 8 bits or more: F16$/m);
  });

  it('shows the content digest (tensors and keys it covers, or none) and the calibration, as JSON and as text', async () => {
    const dir = join(artifactsDir, 'info-trust');
    mkdirSync(dir, { recursive: true });
    const calibrated = join(dir, 'vector.gguf');
    const undigested = join(dir, 'undigested.gguf');
    const record = { calibration: { method: 'vector' as const, scale: [1.5, 1, 0.5, 2, 1], bias: [0, 0.25, -0.25, 0, 0.5] }, lines: 1234, nllBefore: 0.875, nllAfter: 0.625, eceBefore: 0.1875, eceAfter: 0.0625 }; // exact in f32
    await copyGguf(tinyModel('f32'), calibrated, { editMetadata: (m) => setCalibration(m, record) });
    await copyGguf(tinyModel('f32'), undigested, { digest: false, editMetadata: (m) => [...m.keys()].filter((k) => k.startsWith('logtriage.digest.')).forEach((k) => m.delete(k)) });
    const header = await readGgufHeader(calibrated);
    // Covered keys by the documented rule: all but logtriage.digest.* and the descriptive general.* keys.
    const covered = [...header.metadata.keys()].filter((k) => !k.startsWith('logtriage.digest.') && (!k.startsWith('general.') || k === 'general.architecture' || k === 'general.alignment'));
    expect(covered.filter((k) => k.startsWith('logtriage.calibration.'))).toHaveLength(8);

    const [json, text, bareJson, bareText] = await Promise.all([
      runCli(['info', calibrated, '--json']),
      runCli(['info', calibrated]),
      runCli(['info', undigested, '--json']),
      runCli(['info', undigested]),
    ]);
    for (const run of [json, text, bareJson, bareText]) expect(run.code, run.stderr).toBe(0);
    const { model } = JSON.parse(json.stdout);
    expect(model.digest).toEqual({ version: 1, tensors: header.tensors.length, metadataKeys: covered.length, id: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(model.calibration).toEqual(record);
    expect(text.stdout).toMatch(new RegExp(`^digest\\s+SHA-256 of ${header.tensors.length} tensors and ${covered.length} metadata keys \\(version 1; \`logtriage verify\` checks it\\)$`, 'm'));
    expect(text.stdout).toMatch(/^calibration\s+vector scaling .*; fitted on 1,234 lines: NLL 0\.8750 → 0\.6250, ECE 0\.1875 → 0\.0625$/m);

    const bare = JSON.parse(bareJson.stdout).model;
    expect(bare.digest).toBeNull();
    expect(bare).not.toHaveProperty('calibration');
    expect(bareText.stdout).toMatch(/^digest\s+none: unverifiable/m);
    expect(bareText.stdout).toMatch(/^calibration\s+none \(scores are the raw softmax/m);
  });
});
