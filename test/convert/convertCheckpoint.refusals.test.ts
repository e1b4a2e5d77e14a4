// SPDX-License-Identifier: MIT
// Broken copies of the qwen2-tiny-public checkpoint: each must be refused with a ConvertError
// naming the problem, and must leave nothing behind in the output folder.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConvertError } from '../../src/errors.js';
import { convertCheckpoint } from '../../src/convert/index.js';
import { tinyCheckpointDir } from '../fixtures/index.js';

const checkpoint = tinyCheckpointDir();
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

type TensorHeader = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
interface Edits {
  config?: (config: Record<string, unknown>) => void;
  /** Edits the safetensors header and/or a private copy of its data section. */
  weights?: (header: TensorHeader, data: Buffer) => void;
  tokenizer?: (tokenizer: Record<string, unknown>) => void;
  remove?: string[];
  /** Replaces model.safetensors with two shards and model.safetensors.index.json. */
  shard?: boolean;
}

const safetensors = readFileSync(join(checkpoint, 'model.safetensors'));
const headerLength = Number(safetensors.readBigUInt64LE(0));
const baseHeader = JSON.parse(safetensors.subarray(8, 8 + headerLength).toString('utf8')) as TensorHeader;
const baseData = safetensors.subarray(8 + headerLength);

function encodeSafetensors(header: TensorHeader, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'logtriage-refusals-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A copy of the fixture with `edits` applied; unedited files are symlinks to the read-only originals. */
async function brokenCopy(edits: Edits): Promise<string> {
  const dir = join(root, `ckpt-${counter++}`);
  await mkdir(dir);
  for (const file of FILES) {
    if (edits.remove?.includes(file)) continue;
    const target = join(dir, file);
    if (file === 'config.json' && edits.config) {
      const config = JSON.parse(await readFile(join(checkpoint, file), 'utf8')) as Record<string, unknown>;
      edits.config(config);
      await writeFile(target, JSON.stringify(config));
    } else if (file === 'tokenizer.json' && edits.tokenizer) {
      const tokenizer = JSON.parse(await readFile(join(checkpoint, file), 'utf8')) as Record<string, unknown>;
      edits.tokenizer(tokenizer);
      await writeFile(target, JSON.stringify(tokenizer));
    } else if (file === 'model.safetensors' && edits.shard) {
      // Two shards: the embedding alone, then everything else.
      const { ['model.embed_tokens.weight']: embed, ...rest } = structuredClone(baseHeader);
      const [start, end] = embed!.data_offsets;
      await writeFile(join(dir, 'model-00001-of-00002.safetensors'), encodeSafetensors({ 'model.embed_tokens.weight': { ...embed!, data_offsets: [0, end - start] } }, baseData.subarray(start, end)));
      await writeFile(join(dir, 'model-00002-of-00002.safetensors'), encodeSafetensors(rest, baseData));
      const weightMap = Object.fromEntries(Object.keys(baseHeader).filter((n) => n !== '__metadata__').map((n) => [n, n === 'model.embed_tokens.weight' ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
      await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    } else if (file === 'model.safetensors' && edits.weights) {
      const header = structuredClone(baseHeader);
      const data = Buffer.from(baseData);
      edits.weights(header, data);
      await writeFile(target, encodeSafetensors(header, data));
    } else {
      await symlink(join(checkpoint, file), target);
    }
  }
  return dir;
}

async function expectRefusal(dir: string, message: RegExp): Promise<void> {
  const out = await mkdtemp(join(root, 'out-'));
  const error = await convertCheckpoint(dir, join(out, 'model.gguf'), { type: 'f16' }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConvertError);
  expect((error as Error).message).toMatch(message);
  expect(await readdir(out)).toEqual([]);
}

const f32At = (header: TensorHeader, name: string, index: number): number => header[name]!.data_offsets[0] + index * 4;

describe('convertCheckpoint() refusals', () => {
  it('converts an unbroken copy (the harness itself is sound)', async () => {
    const out = await mkdtemp(join(root, 'out-'));
    const result = await convertCheckpoint(await brokenCopy({ shard: true }), join(out, 'ok.gguf'), { type: 'f16' });
    expect(result.labels).toHaveLength(5);
  });

  it('refuses other architectures and model types', async () => {
    await expectRefusal(await brokenCopy({ config: (c) => (c.architectures = ['LlamaForSequenceClassification']) }), /config.json: architectures is \["LlamaForSequenceClassification"\]; only Qwen2ForSequenceClassification/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.architectures = ['Qwen2ForCausalLM']) }), /architectures .*Qwen2ForCausalLM/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.model_type = 'qwen3') }), /config.json: model_type is "qwen3"/);
  });

  it('refuses configs whose graph llama.cpp would compute differently', async () => {
    await expectRefusal(await brokenCopy({ config: (c) => (c.hidden_act = 'gelu') }), /config.json: hidden_act is "gelu"/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.use_sliding_window = true) }), /config.json: use_sliding_window is true/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.layer_types = ['full_attention', 'sliding_attention']) }), /config.json: layer_types\[1\] is "sliding_attention"/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.rope_scaling = { type: 'yarn', factor: 4 }) }), /config.json: rope_scaling is \{"type":"yarn","factor":4\}/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.head_dim = 32) }), /config.json: head_dim is 32/);
    await expectRefusal(await brokenCopy({ config: (c) => delete c.hidden_size }), /config.json: hidden_size is invalid/);
  });

  it('refuses label definitions that do not match the head', async () => {
    await expectRefusal(await brokenCopy({ config: (c) => ((c.id2label = { 0: 'a', 1: 'b', 2: 'c', 3: 'd' }), (c.num_labels = 4)) }), /'score.weight' has 5 rows but config.json id2label has 4 labels/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.num_labels = 4) }), /config.json: num_labels \(4\) does not match the 5 entries of id2label/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.id2label = { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 5: 'e' }) }), /config.json: id2label must have the keys "0" to "4", but "4" is missing/);
    await expectRefusal(await brokenCopy({ config: (c) => delete c.id2label }), /config.json: id2label is invalid/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.id2label = { ...(c.id2label as object), 2: 'Mal\u001b]0;x\u0007' }) }), /config.json: id2label "2" holds the control or bidi character U\+001B/);
    await expectRefusal(await brokenCopy({ config: (c) => (c.id2label = { ...(c.id2label as object), 4: 'Err\u202e' }) }), /config.json: id2label "4" holds the control or bidi character U\+202E/);
  });

  it('refuses missing files', async () => {
    await expectRefusal(await brokenCopy({ remove: ['config.json'] }), /Missing or unreadable config.json/);
    await expectRefusal(await brokenCopy({ remove: ['tokenizer.json'] }), /Missing or unreadable tokenizer.json/);
    await expectRefusal(await brokenCopy({ remove: ['tokenizer_config.json'] }), /Missing or unreadable tokenizer_config.json/);
    await expectRefusal(await brokenCopy({ remove: ['model.safetensors'] }), /Missing weights: neither model.safetensors nor model.safetensors.index.json/);
    const sharded = await brokenCopy({ shard: true });
    await rm(join(sharded, 'model-00002-of-00002.safetensors'));
    await expectRefusal(sharded, /Missing shard model-00002-of-00002.safetensors \(listed in model.safetensors.index.json\)/);
  });

  it('refuses missing, misshapen, unexpected and non-float tensors', async () => {
    await expectRefusal(await brokenCopy({ weights: (h) => delete h['model.layers.1.self_attn.k_proj.bias'] }), /Missing tensor 'model.layers.1.self_attn.k_proj.bias'/);
    await expectRefusal(
      await brokenCopy({ weights: (h) => (h['score.weight']!.shape = [10, 32]) }),
      /'score.weight' has 10 rows but config.json id2label has 5 labels/,
    );
    await expectRefusal(
      await brokenCopy({ weights: (h) => (h['model.layers.0.mlp.up_proj.weight']!.shape = [64, 192]) }),
      /'model.layers.0.mlp.up_proj.weight' has shape \[64, 192\], expected \[192, 64\] \(config.json: hidden_size 64, .*intermediate_size 192/,
    );
    await expectRefusal(await brokenCopy({ config: (c) => (c.num_hidden_layers = 1) }), /Unexpected tensor 'model.layers.1.input_layernorm.weight' .*num_hidden_layers is 1/);
    await expectRefusal(await brokenCopy({ weights: (h) => (h['model.norm.weight']!.dtype = 'I32') }), /'model.norm.weight' has unsupported dtype I32/);
    await expectRefusal(await brokenCopy({ weights: (h) => (h['model.norm.weight']!.dtype = 'F64') }), /model.safetensors: tensor 'model.norm.weight' spans 256 bytes but F64 \[64\] needs 512/);
    await expectRefusal(await brokenCopy({ weights: (h) => (h['model.norm.weight']!.data_offsets = [0, 1e12]) }), /'model.norm.weight' data_offsets \[0, 1000000000000\] lie outside/);
  });

  it('refuses non-finite weights, naming the tensor and element', async () => {
    await expectRefusal(
      await brokenCopy({ weights: (h, d) => d.writeFloatLE(NaN, f32At(h, 'model.layers.1.mlp.down_proj.weight', 1234)) }),
      /Tensor 'model.layers.1.mlp.down_proj.weight' has value NaN at element 1234: not finite/,
    );
    await expectRefusal(
      await brokenCopy({ weights: (h, d) => d.writeFloatLE(-Infinity, f32At(h, 'model.embed_tokens.weight', 9_000_000)) }),
      /Tensor 'model.embed_tokens.weight' has value -Infinity at element 9000000/,
    );
    await expectRefusal(await brokenCopy({ weights: (h, d) => d.writeFloatLE(NaN, f32At(h, 'score.weight', 7)) }), /Tensor 'score.weight' has value NaN at element 7/);
    await expectRefusal(
      await brokenCopy({ weights: (h, d) => d.writeFloatLE(1e6, f32At(h, 'model.layers.0.self_attn.o_proj.weight', 3)) }),
      /Tensor 'model.layers.0.self_attn.o_proj.weight' has value 1000000 at element 3: out of F16 range/,
    );
  });

  it('refuses tokenizers llama.cpp would not reproduce', async () => {
    await expectRefusal(
      await brokenCopy({ tokenizer: (t) => ((t.pre_tokenizer as { pretokenizers: unknown[] }).pretokenizers = [{ type: 'ByteLevel' }]) }),
      /pre_tokenizer is not the Qwen2 split regex/,
    );
    await expectRefusal(await brokenCopy({ tokenizer: (t) => ((t.model as { type: string }).type = 'WordPiece') }), /tokenizer.json: model.type is invalid/);
    await expectRefusal(
      await brokenCopy({ tokenizer: (t) => (t.added_tokens as { id: number }[]).push({ id: 200000, content: '<x>', special: true } as never) }),
      /token "<x>" has id 200000, not below config.json vocab_size 151936/,
    );
  });

  it('refuses a corrupt safetensors header and a missing output folder', async () => {
    const corrupt = await brokenCopy({ remove: ['model.safetensors'] });
    await writeFile(join(corrupt, 'model.safetensors'), Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), Buffer.from('{}')]));
    await expectRefusal(corrupt, /model.safetensors: header length 4294967295 exceeds the file size/);
    await expect(convertCheckpoint(checkpoint, join(root, 'no', 'such', 'dir', 'm.gguf'), { type: 'f32' })).rejects.toThrow(/Output folder .* does not exist/);
  });
});
