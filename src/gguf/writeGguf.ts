// SPDX-License-Identifier: MIT
// A small streaming GGUF v3 writer. The header (metadata and tensor infos, whose offsets follow
// from shapes and types alone) is written first; then each tensor's bytes are pulled chunk by
// chunk from its source, so a multi-GB tensor never sits in memory. Output goes to a temporary
// file that is renamed into place only when complete and is removed on any failure.

import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import {
  alignUp,
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_SIZE,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  WRITABLE_TENSOR_TYPE_ID,
  WRITABLE_TENSOR_TYPE_SIZE,
} from './ggufTypes.js';
import type { GgmlTypeInfo, GgufMetadata, GgufScalarTypeName, GgufValue, WritableTensorType } from './ggufTypes.js';

export interface GgufTensorSource {
  /** The GGUF tensor name (shorter than 64 bytes). */
  readonly name: string;
  /** PyTorch / safetensors order, outermost dimension first; written reversed as ggml `ne`. */
  readonly shape: readonly number[];
  /** A float type the converter writes, or any ggml type when bytes are copied from another GGUF. */
  readonly type: WritableTensorType | GgmlTypeInfo;
  /** Yields the tensor's bytes, already in `type`, in order; they must add up to the tensor's size exactly. */
  readonly chunks: () => AsyncIterable<Uint8Array>;
}

export interface WriteGgufResult {
  readonly bytes: number;
}

/** A growable little-endian byte buffer; the header of a 151k-token vocabulary is about 10 MB. */
class ByteSink {
  private buf = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  bytes(data: Uint8Array): void {
    this.buf.set(data, this.reserve(data.length));
  }

  scalar(type: Exclude<GgufScalarTypeName, 'string'>, value: number | bigint | boolean): void {
    const at = this.reserve(GGUF_SCALAR_SIZE[type]);
    const buf = this.buf;
    switch (type) {
      case 'u8': buf.writeUInt8(value as number, at); break;
      case 'i8': buf.writeInt8(value as number, at); break;
      case 'u16': buf.writeUInt16LE(value as number, at); break;
      case 'i16': buf.writeInt16LE(value as number, at); break;
      case 'u32': buf.writeUInt32LE(value as number, at); break;
      case 'i32': buf.writeInt32LE(value as number, at); break;
      case 'f32': buf.writeFloatLE(value as number, at); break;
      case 'f64': buf.writeDoubleLE(value as number, at); break;
      case 'bool': buf.writeUInt8(value ? 1 : 0, at); break;
      case 'u64': buf.writeBigUInt64LE(value as bigint, at); break;
      case 'i64': buf.writeBigInt64LE(value as bigint, at); break;
    }
  }

  string(value: string): void {
    // A lone surrogate would silently become U+FFFD.
    if (!value.isWellFormed()) throw new RangeError(`String ${JSON.stringify(value)} is not well-formed UTF-16`);
    const byteLength = Buffer.byteLength(value, 'utf8');
    const at = this.reserve(8 + byteLength);
    // Two u32 halves: avoids a BigInt per string.
    this.buf.writeUInt32LE(byteLength, at);
    this.buf.writeUInt32LE(0, at + 4);
    this.buf.write(value, at + 8, 'utf8');
  }

  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(sink: ByteSink, key: string, value: GgufValue): void {
  sink.scalar('u32', GGUF_VALUE_TYPE[value.type]);
  if (value.type === 'string') {
    sink.string(value.value);
    return;
  }
  if (value.type !== 'array') {
    sink.scalar(value.type, value.value);
    return;
  }
  sink.scalar('u32', GGUF_VALUE_TYPE[value.itemType]);
  sink.scalar('u64', BigInt(value.value.length));
  if (value.itemType === 'string') {
    for (const item of value.value) sink.string(item);
  } else if (value.itemType === 'bool') {
    sink.bytes(Uint8Array.from(value.value, (b) => (b ? 1 : 0)));
  } else {
    // Typed arrays are little-endian in memory on every platform Node supports.
    const { buffer, byteOffset, byteLength } = value.value;
    if (byteLength !== value.value.length * GGUF_SCALAR_SIZE[value.itemType]) {
      throw new RangeError(`Metadata key '${key}': array does not match item type ${value.itemType}`);
    }
    sink.bytes(new Uint8Array(buffer, byteOffset, byteLength));
  }
}

function typeInfo(type: WritableTensorType | GgmlTypeInfo): Pick<GgmlTypeInfo, 'id' | 'blockSize' | 'typeSize'> {
  return typeof type === 'string' ? { id: WRITABLE_TENSOR_TYPE_ID[type], blockSize: 1, typeSize: WRITABLE_TENSOR_TYPE_SIZE[type] } : type;
}

interface PlannedTensor {
  readonly source: GgufTensorSource;
  readonly offset: number;
  readonly byteSize: number;
}

function planTensors(tensors: readonly GgufTensorSource[]): PlannedTensor[] {
  const names = new Set<string>();
  let offset = 0;
  return tensors.map((source) => {
    const { name, shape, type } = source;
    if (names.has(name)) throw new RangeError(`Duplicate tensor name '${name}'`);
    names.add(name);
    if (name.length === 0 || Buffer.byteLength(name, 'utf8') >= GGML_MAX_NAME) {
      throw new RangeError(`Tensor name '${name}' must be 1 to ${GGML_MAX_NAME - 1} bytes long`);
    }
    if (shape.length < 1 || shape.length > GGML_MAX_DIMS || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new RangeError(`Tensor '${name}' has invalid shape [${shape.join(', ')}]`);
    }
    const { blockSize, typeSize } = typeInfo(type);
    if (shape.at(-1)! % blockSize !== 0) throw new RangeError(`Tensor '${name}' innermost dimension ${shape.at(-1)} is not a multiple of its block size ${blockSize}`);
    const byteSize = (shape.reduce((a, b) => a * b, 1) / blockSize) * typeSize;
    const planned = { source, offset, byteSize };
    offset = alignUp(offset + byteSize, GGUF_ALIGNMENT);
    return planned;
  });
}

function encodeHeader(metadata: GgufMetadata, planned: readonly PlannedTensor[]): Buffer {
  const alignment = metadata.get('general.alignment');
  if (alignment && !(alignment.type === 'u32' && alignment.value === GGUF_ALIGNMENT)) {
    throw new RangeError(`general.alignment must be u32 ${GGUF_ALIGNMENT}`);
  }
  const entries = [...metadata];
  if (!alignment) entries.push(['general.alignment', { type: 'u32', value: GGUF_ALIGNMENT }]);

  const sink = new ByteSink();
  sink.scalar('u32', GGUF_MAGIC);
  sink.scalar('u32', GGUF_VERSION);
  sink.scalar('u64', BigInt(planned.length));
  sink.scalar('u64', BigInt(entries.length));
  for (const [key, value] of entries) {
    sink.string(key);
    writeValue(sink, key, value);
  }
  for (const { source, offset } of planned) {
    sink.string(source.name);
    sink.scalar('u32', source.shape.length);
    for (const dim of [...source.shape].reverse()) sink.scalar('u64', BigInt(dim));
    sink.scalar('u32', typeInfo(source.type).id);
    sink.scalar('u64', BigInt(offset));
  }
  sink.bytes(new Uint8Array(alignUp(sink.length, GGUF_ALIGNMENT) - sink.length));
  return sink.toBuffer();
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

async function writeTensorData(fh: FileHandle, planned: readonly PlannedTensor[]): Promise<number> {
  let position = 0;
  for (const { source, byteSize } of planned) {
    let written = 0;
    for await (const chunk of source.chunks()) {
      if (written + chunk.length > byteSize) {
        throw new RangeError(`Tensor '${source.name}': source yielded more than ${byteSize} bytes`);
      }
      await writeAll(fh, chunk);
      written += chunk.length;
    }
    if (written !== byteSize) {
      throw new RangeError(`Tensor '${source.name}': source yielded ${written} bytes, expected ${byteSize}`);
    }
    const padded = alignUp(position + byteSize, GGUF_ALIGNMENT);
    await writeAll(fh, new Uint8Array(padded - position - byteSize));
    position = padded;
  }
  return position;
}

/**
 * Writes a GGUF v3 file at `outPath` (via `<outPath>.tmp-<pid>` and a rename). Metadata keys are
 * written in map order, with `general.alignment = 32` appended when absent.
 */
export async function writeGguf(
  outPath: string,
  metadata: GgufMetadata,
  tensors: readonly GgufTensorSource[],
): Promise<WriteGgufResult> {
  const planned = planTensors(tensors);
  const header = encodeHeader(metadata, planned);
  const tmpPath = `${outPath}.tmp-${process.pid}`;
  const fh = await open(tmpPath, 'w');
  try {
    await writeAll(fh, header);
    const dataBytes = await writeTensorData(fh, planned);
    await fh.sync();
    await fh.close();
    await rename(tmpPath, outPath);
    return { bytes: header.length + dataBytes };
  } catch (error) {
    await fh.close().catch(() => undefined); // already closed when rename failed
    await rm(tmpPath, { force: true });
    throw error;
  }
}
