// SPDX-License-Identifier: MIT
// A small streaming GGUF v3 writer. The header (metadata and tensor infos, whose offsets follow
// from shapes and types alone) is written first; then each tensor's bytes are pulled chunk by
// chunk from its source, so a multi-GB tensor never sits in memory. Output goes to a temporary
// file that is renamed into place only when complete and is removed on any failure. With
// `digest`, the tensors are hashed as they stream and the header, written first with placeholder
// hashes of the same length, is overwritten in place at the end (contentDigest.ts).

import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
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
  GGML_TYPE_BY_NAME,
} from './ggufTypes.js';
import type { GgmlTypeInfo, GgufMetadata, GgufScalarTypeName, GgufValue } from './ggufTypes.js';
import { DIGEST_KEY, DIGEST_PREFIX, DIGEST_VERSION, isDigestedKey, PLACEHOLDER_HASH } from './contentDigest.js';

export interface GgufTensorSource {
  /** The GGUF tensor name (shorter than 64 bytes). */
  readonly name: string;
  /** PyTorch / safetensors order, outermost dimension first; written reversed as ggml `ne`. */
  readonly shape: readonly number[];
  /** A ggml type name (ggufTypes.ts): 'F32', 'F16', 'BF16', or a quantized type when copying tensors. */
  readonly type: string;
  /** Yields the tensor's bytes, already in `type`, in order; they must add up to the tensor's size exactly. */
  readonly chunks: () => AsyncIterable<Uint8Array>;
}

export interface WriteGgufOptions {
  /** Write the content digest (contentDigest.ts); any logtriage.digest.* keys in `metadata` are replaced. */
  readonly digest?: boolean;
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

  /** A view of bytes already written; valid until the next write. */
  view(start: number, end: number): Buffer {
    return this.buf.subarray(start, end);
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

interface PlannedTensor {
  readonly source: GgufTensorSource;
  readonly type: GgmlTypeInfo;
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
    const info = GGML_TYPE_BY_NAME.get(type);
    if (info === undefined) throw new RangeError(`Tensor '${name}' has unknown ggml type '${type}'`);
    if (shape.at(-1)! % info.blockSize !== 0) {
      throw new RangeError(`Tensor '${name}' of type ${type}: innermost dimension ${shape.at(-1)} is not a multiple of ${info.blockSize}`);
    }
    const byteSize = (shape.reduce((a, b) => a * b, 1) / info.blockSize) * info.typeSize;
    const planned = { source, type: info, offset, byteSize };
    offset = alignUp(offset + byteSize, GGUF_ALIGNMENT);
    return planned;
  });
}

interface EncodedHeader {
  readonly bytes: Buffer;
  /** Where each tensor's info record (name, dims, type, offset) sits in `bytes`. */
  readonly tensorInfoSpans: readonly (readonly [number, number])[];
}

const hashOf = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** `tensorHashes` (one per tensor, placeholders allowed) turns the digest on. */
function encodeHeader(metadata: GgufMetadata, planned: readonly PlannedTensor[], tensorHashes?: readonly string[]): EncodedHeader {
  const alignment = metadata.get('general.alignment');
  if (alignment && !(alignment.type === 'u32' && alignment.value === GGUF_ALIGNMENT)) {
    throw new RangeError(`general.alignment must be u32 ${GGUF_ALIGNMENT}`);
  }
  const entries = [...metadata].filter(([key]) => tensorHashes === undefined || !key.startsWith(DIGEST_PREFIX));
  if (!alignment) entries.push(['general.alignment', { type: 'u32', value: GGUF_ALIGNMENT }]);
  const digestEntries = tensorHashes === undefined ? 0 : Object.keys(DIGEST_KEY).length;

  const sink = new ByteSink();
  sink.scalar('u32', GGUF_MAGIC);
  sink.scalar('u32', GGUF_VERSION);
  sink.scalar('u64', BigInt(planned.length));
  sink.scalar('u64', BigInt(entries.length + digestEntries));
  const digestedKeys: string[] = [];
  const keyHashes: string[] = [];
  for (const [key, value] of entries) {
    const start = sink.length;
    sink.string(key);
    writeValue(sink, key, value);
    if (tensorHashes !== undefined && isDigestedKey(key)) {
      digestedKeys.push(key);
      keyHashes.push(hashOf(sink.view(start, sink.length)));
    }
  }
  if (tensorHashes !== undefined) {
    const strings = (value: string[]): GgufValue => ({ type: 'array', itemType: 'string', value });
    const digest: [string, GgufValue][] = [
      [DIGEST_KEY.version, { type: 'u32', value: DIGEST_VERSION }],
      [DIGEST_KEY.tensors, strings([...tensorHashes])],
      [DIGEST_KEY.metadataKeys, strings(digestedKeys)],
      [DIGEST_KEY.metadata, strings(keyHashes)],
    ];
    for (const [key, value] of digest) {
      sink.string(key);
      writeValue(sink, key, value);
    }
  }
  const tensorInfoSpans = planned.map(({ source, type, offset }) => {
    const start = sink.length;
    sink.string(source.name);
    sink.scalar('u32', source.shape.length);
    for (const dim of [...source.shape].reverse()) sink.scalar('u64', BigInt(dim));
    sink.scalar('u32', type.id);
    sink.scalar('u64', BigInt(offset));
    return [start, sink.length] as const;
  });
  sink.bytes(new Uint8Array(alignUp(sink.length, GGUF_ALIGNMENT) - sink.length));
  return { bytes: sink.toBuffer(), tensorInfoSpans };
}

/** Writes all of `data` at the current position, or at `position` when given. */
async function writeAll(fh: FileHandle, data: Uint8Array, position?: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position === undefined ? null : position + done);
    done += bytesWritten;
  }
}

/** Writes the tensors after the header; `hashes[i]`, when given, already holds tensor i's info record and gets its bytes. */
async function writeTensorData(fh: FileHandle, planned: readonly PlannedTensor[], hashes?: readonly Hash[]): Promise<number> {
  let position = 0;
  for (const [index, { source, byteSize }] of planned.entries()) {
    let written = 0;
    for await (const chunk of source.chunks()) {
      if (written + chunk.length > byteSize) {
        throw new RangeError(`Tensor '${source.name}': source yielded more than ${byteSize} bytes`);
      }
      hashes?.[index]!.update(chunk);
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
 * written in map order, with `general.alignment = 32` appended when absent, then the digest keys.
 */
export async function writeGguf(
  outPath: string,
  metadata: GgufMetadata,
  tensors: readonly GgufTensorSource[],
  options: WriteGgufOptions = {},
): Promise<WriteGgufResult> {
  const planned = planTensors(tensors);
  const header = encodeHeader(metadata, planned, options.digest ? planned.map(() => PLACEHOLDER_HASH) : undefined);
  const hashes = options.digest ? header.tensorInfoSpans.map(([start, end]) => createHash('sha256').update(header.bytes.subarray(start, end))) : undefined;
  const tmpPath = `${outPath}.tmp-${process.pid}`;
  const fh = await open(tmpPath, 'w');
  try {
    await writeAll(fh, header.bytes);
    const dataBytes = await writeTensorData(fh, planned, hashes);
    if (hashes) {
      const final = encodeHeader(metadata, planned, hashes.map((h) => h.digest('hex')));
      // Hex hashes are fixed-width, so the final header fits exactly where the placeholder was.
      if (final.bytes.length !== header.bytes.length) throw new Error('Digest header changed length');
      await writeAll(fh, final.bytes, 0);
    }
    await fh.sync();
    await fh.close();
    await rename(tmpPath, outPath);
    return { bytes: header.bytes.length + dataBytes };
  } catch (error) {
    await fh.close().catch(() => undefined); // already closed when rename failed
    await rm(tmpPath, { force: true });
    throw error;
  }
}
