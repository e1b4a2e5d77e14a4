// SPDX-License-Identifier: MIT
// A GGUF serializer for hostile-model tests, written independently of src/gguf/writeGguf.ts:
// it takes any ggml type id and raw tensor bytes, and returns the byte offset of every field it
// wrote, so a test can truncate at a field boundary or overwrite one count, length or type.
// `shrinkTinyModel` derives a small-vocabulary model from the tiny parity GGUF, cheap enough to
// open hundreds of variants of.
import { open } from 'node:fs/promises';
import { readGgufHeader } from '../../../src/gguf/index.js';
import type { GgufMetadata, GgufValue } from '../../../src/gguf/index.js';

const VALUE_TYPE = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
const SCALAR_SIZE = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 } as const;
export const ALIGNMENT = 32;

export interface RawTensor {
  name: string;
  /** ggml order (ne[0] innermost). */
  ne: number[];
  typeId: number;
  data: Buffer;
}

export interface TinyGguf {
  metadata: GgufMetadata;
  tensors: RawTensor[];
}

/** Where each field of the file starts. */
export interface GgufLayout {
  tensorCountAt: number;
  kvCountAt: number;
  kvs: Array<{ key: string; at: number; typeAt: number; valueAt: number; end: number; arrayCountAt?: number; firstItemAt?: number }>;
  tensorInfos: Array<{ name: string; at: number; nDimsAt: number; neAt: number; typeAt: number; offsetAt: number }>;
  dataOffset: number;
  tensorDataAt: Map<string, number>;
}

class Sink {
  private readonly parts: Buffer[] = [];
  length = 0;

  push(buf: Buffer): number {
    const at = this.length;
    this.parts.push(buf);
    this.length += buf.length;
    return at;
  }

  u32(v: number): number {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return this.push(b);
  }

  u64(v: number | bigint): number {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.push(b);
  }

  string(s: string): number {
    const bytes = Buffer.from(s, 'utf8');
    const at = this.u64(bytes.length);
    this.push(bytes);
    return at;
  }

  pad(): void {
    this.push(Buffer.alloc((ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function scalarBytes(type: keyof typeof SCALAR_SIZE, value: number | bigint | boolean): Buffer {
  const b = Buffer.alloc(SCALAR_SIZE[type]);
  switch (type) {
    case 'u8': b.writeUInt8(value as number); break;
    case 'i8': b.writeInt8(value as number); break;
    case 'u16': b.writeUInt16LE(value as number); break;
    case 'i16': b.writeInt16LE(value as number); break;
    case 'u32': b.writeUInt32LE(value as number); break;
    case 'i32': b.writeInt32LE(value as number); break;
    case 'f32': b.writeFloatLE(value as number); break;
    case 'f64': b.writeDoubleLE(value as number); break;
    case 'bool': b.writeUInt8(value ? 1 : 0); break;
    case 'u64': b.writeBigUInt64LE(value as bigint); break;
    case 'i64': b.writeBigInt64LE(value as bigint); break;
  }
  return b;
}

function writeValue(sink: Sink, value: GgufValue): Pick<GgufLayout['kvs'][number], 'arrayCountAt' | 'firstItemAt'> {
  sink.u32(VALUE_TYPE[value.type]);
  if (value.type === 'string') {
    sink.string(value.value);
    return {};
  }
  if (value.type !== 'array') {
    sink.push(scalarBytes(value.type, value.value));
    return {};
  }
  sink.u32(VALUE_TYPE[value.itemType]);
  const arrayCountAt = sink.u64(value.value.length);
  const firstItemAt = sink.length;
  if (value.itemType === 'string') {
    for (const item of value.value) sink.string(item);
  } else if (value.itemType === 'bool') {
    sink.push(Buffer.from(value.value.map((b) => (b ? 1 : 0))));
  } else {
    const { buffer, byteOffset, byteLength } = value.value;
    sink.push(Buffer.from(buffer, byteOffset, byteLength));
  }
  return { arrayCountAt, firstItemAt };
}

/** Serializes `model` as GGUF v3 with tensors back to back at 32-byte alignment. */
export function serializeGguf(model: TinyGguf): { bytes: Buffer; layout: GgufLayout } {
  const sink = new Sink();
  sink.push(Buffer.from('GGUF'));
  sink.u32(3);
  const tensorCountAt = sink.u64(model.tensors.length);
  const kvCountAt = sink.u64(model.metadata.size);
  const kvs: GgufLayout['kvs'] = [];
  for (const [key, value] of model.metadata) {
    const at = sink.string(key);
    const typeAt = sink.length;
    const array = writeValue(sink, value);
    kvs.push({ key, at, typeAt, valueAt: typeAt + 4, end: sink.length, ...array });
  }
  const tensorInfos: GgufLayout['tensorInfos'] = [];
  let offset = 0;
  const offsets: number[] = [];
  for (const t of model.tensors) {
    const at = sink.string(t.name);
    const nDimsAt = sink.u32(t.ne.length);
    const neAt = sink.length;
    for (const d of t.ne) sink.u64(d);
    const typeAt = sink.u32(t.typeId);
    const offsetAt = sink.u64(offset);
    tensorInfos.push({ name: t.name, at, nDimsAt, neAt, typeAt, offsetAt });
    offsets.push(offset);
    offset += Math.ceil(t.data.length / ALIGNMENT) * ALIGNMENT;
  }
  sink.pad();
  const dataOffset = sink.length;
  const tensorDataAt = new Map<string, number>();
  model.tensors.forEach((t, i) => {
    tensorDataAt.set(t.name, dataOffset + offsets[i]!);
    sink.push(t.data);
    sink.pad();
  });
  return { bytes: sink.toBuffer(), layout: { tensorCountAt, kvCountAt, kvs, tensorInfos, dataOffset, tensorDataAt } };
}

/**
 * The tiny parity model with its vocabulary cut to the first `keep` tokens plus its control
 * tokens (ids renumbered, embedding rows gathered, merges kept where both parts and the result
 * survive). Same layers, head and labels; opening it costs milliseconds instead of a second.
 */
export async function shrinkTinyModel(path: string, keep: number): Promise<TinyGguf> {
  const header = await readGgufHeader(path);
  const fh = await open(path, 'r');
  const tensors: RawTensor[] = [];
  try {
    for (const t of header.tensors) {
      const data = Buffer.alloc(t.byteSize);
      await fh.read(data, 0, t.byteSize, header.dataOffset + t.offset);
      tensors.push({ name: t.name, ne: [...t.ne], typeId: t.type.id, data });
    }
  } finally {
    await fh.close();
  }
  // The digest describes the original file, not this derivative.
  const meta = new Map([...header.metadata].filter(([key]) => !key.startsWith('logtriage.digest.')));
  const tokens = meta.get('tokenizer.ggml.tokens')!.value as string[];
  const types = meta.get('tokenizer.ggml.token_type')!.value as Int32Array;
  const CONTROL = 3;
  const kept = [...Array(keep).keys(), ...[...types.keys()].filter((id) => id >= keep && types[id] === CONTROL)];
  const newId = new Map(kept.map((old, i) => [old, i]));
  const keptTexts = kept.map((id) => tokens[id]!);
  const keptSet = new Set(keptTexts);
  const merges = (meta.get('tokenizer.ggml.merges')!.value as string[]).filter((m) => {
    const [left, right] = m.split(' ');
    return keptSet.has(left!) && keptSet.has(right!) && keptSet.has(left! + right!);
  });
  meta.set('tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: keptTexts });
  meta.set('tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: Int32Array.from(kept, (id) => types[id]!) });
  meta.set('tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: merges });
  for (const key of ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.padding_token_id']) {
    const v = meta.get(key);
    if (v?.type === 'u32') meta.set(key, { type: 'u32', value: newId.get(v.value)! });
  }
  const embd = tensors.find((t) => t.name === 'token_embd.weight')!;
  const rowBytes = embd.data.length / embd.ne[1]!;
  embd.data = Buffer.concat(kept.map((id) => embd.data.subarray(id * rowBytes, (id + 1) * rowBytes)));
  embd.ne = [embd.ne[0]!, kept.length];
  return { metadata: meta, tensors };
}
