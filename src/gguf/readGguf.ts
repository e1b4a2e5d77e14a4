// SPDX-License-Identifier: MIT
// A strict GGUF header reader. It runs before llama.cpp ever opens a file, so every count,
// length, type and offset is checked against the bytes actually left in the file before
// anything is allocated: a hostile or truncated file must end in a ModelFormatError that names
// the key, tensor or offset, never in a RangeError, a huge allocation or a llama.cpp assert.

import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import { ModelFormatError } from '../errors.js';
import {
  alignUp,
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGML_TYPE_BY_ID,
  GGUF_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_SIZE,
  GGUF_VALUE_TYPE,
} from './ggufTypes.js';
import type { ByteSpan, GgufHeader, GgufMetadata, GgufScalarTypeName, GgufTensorInfo, GgufValue } from './ggufTypes.js';

/** Headers above this size are refused: a real 151k-token vocabulary needs about 10 MB. */
export const MAX_GGUF_HEADER_BYTES = 256 * 1024 * 1024;
/**
 * Hard caps on counts, below what the byte budget allows: each metadata key, tensor, string or
 * bool becomes a JS object or string of tens of bytes, so 256 MB of 14-byte keys (~19M) would
 * exhaust the heap long before the budget. Real models are far below: Qwen2 has ~30 keys, 338
 * tensors at 1.5B, 151,643 tokens and 151,387 merges; the largest vocabularies are ~262k.
 */
export const MAX_GGUF_METADATA_KEYS = 65_536;
export const MAX_GGUF_TENSORS = 65_536;
/** Strings and bools of all metadata arrays together (numeric arrays are typed arrays, bounded by the byte budget). */
export const MAX_GGUF_ARRAY_OBJECTS = 4 * 1024 * 1024;
const READ_WINDOW_BYTES = 1024 * 1024;
/** Smallest possible encodings, used to reject absurd counts before allocating. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, 1-byte key, type, 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8; // name length, name, n_dims, one dim, type, offset

const TYPE_NAME_BY_ID = new Map<number, GgufScalarTypeName | 'array'>(
  Object.entries(GGUF_VALUE_TYPE).map(([name, id]) => [id, name as GgufScalarTypeName | 'array']),
);

/** Error context, built only when an error is thrown: the hot string loop must not format 300k labels. */
type Label = string | (() => string);
const label = (what: Label): string => (typeof what === 'string' ? what : what());

/** Reads forward through the header, refilling a window from the file as needed. */
class HeaderCursor {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  position = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
  ) {}

  /** Bytes that may still be read: what is left in the file, capped by the header budget. */
  get budget(): number {
    return Math.min(this.fileSize, MAX_GGUF_HEADER_BYTES) - this.position;
  }

  /**
   * Makes `n` bytes readable at the current position. Synchronous (returns undefined) while the
   * window already holds them, so the ~300k strings of a real vocabulary do not each cost a read.
   */
  need(n: number, what: Label): Promise<void> | undefined {
    if (n > this.budget) {
      const cause = this.position + n > this.fileSize ? 'file is truncated' : `header exceeds ${MAX_GGUF_HEADER_BYTES} bytes`;
      throw new ModelFormatError(`${label(what)} needs ${n} bytes at offset ${this.position}: ${cause} (file size ${this.fileSize})`);
    }
    return this.position + n <= this.windowStart + this.window.length ? undefined : this.refill(n, label(what));
  }

  private async refill(n: number, what: string): Promise<void> {
    const size = Math.min(Math.max(n, READ_WINDOW_BYTES), this.fileSize - this.position);
    const window = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.fh.read(window, filled, size - filled, this.position + filled);
      if (bytesRead === 0) throw new ModelFormatError(`${what}: file shrank while reading at offset ${this.position + filled}`);
      filled += bytesRead;
    }
    this.window = window;
    this.windowStart = this.position;
  }

  /** Returns `n` bytes that `need` made available. */
  take(n: number): Buffer {
    const start = this.position - this.windowStart;
    this.position += n;
    return this.window.subarray(start, start + n);
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.take(4).readUInt32LE(0);
  }

  /** Strings and bools of metadata arrays read so far (MAX_GGUF_ARRAY_OBJECTS). */
  private objects = 0;

  /** Counts `n` more array strings or bools, refusing them past MAX_GGUF_ARRAY_OBJECTS before they are read. */
  addObjects(n: number, what: string): void {
    this.objects += n;
    if (this.objects > MAX_GGUF_ARRAY_OBJECTS) {
      throw new ModelFormatError(`${what} brings the header's array strings and bools to ${this.objects}, more than the cap of ${MAX_GGUF_ARRAY_OBJECTS}`);
    }
  }

  /** A u64 that must be a safe integer no larger than `max`. */
  async count(what: string, max: number): Promise<number> {
    await this.need(8, what);
    return this.takeCount(what, max);
  }

  private takeCount(what: Label, max: number): number {
    const at = this.position - this.windowStart;
    this.position += 8;
    // Two u32 halves: exact for every value up to 2^53 and avoids a BigInt per string.
    const value = this.window.readUInt32LE(at + 4) * 2 ** 32 + this.window.readUInt32LE(at);
    if (value > max) {
      const exact = this.window.readBigUInt64LE(at);
      throw new ModelFormatError(`${label(what)} is ${exact} at offset ${this.position - 8}, more than the ${max} that can fit`);
    }
    return value;
  }

  async string(what: string): Promise<string> {
    return (await this.strings(1, what, false))[0]!;
  }

  /** Reads `n` length-prefixed UTF-8 strings, awaiting only when the window must be refilled. */
  async strings(n: number, what: string, indexed = true): Promise<string[]> {
    const items: string[] = [];
    const name = (i: number) => (indexed ? `${what}[${i}]` : what);
    for (let i = 0; i < n; i++) {
      const lengthReady = this.need(8, () => `${name(i)} length`);
      if (lengthReady) await lengthReady;
      const length = this.takeCount(() => `${name(i)} length`, this.budget);
      const bytesReady = this.need(length, () => name(i));
      if (bytesReady) await bytesReady;
      const start = this.position - this.windowStart;
      this.position += length;
      const text = this.window.toString('utf8', start, start + length);
      // Decoding replaces invalid sequences with U+FFFD; only then is the exact check needed.
      if (text.includes('\uFFFD') && !isUtf8(this.window.subarray(start, start + length))) {
        throw new ModelFormatError(`${name(i)} at offset ${this.position - length} is not valid UTF-8`);
      }
      items.push(text);
    }
    return items;
  }
}

function readScalar(buf: Buffer, type: Exclude<GgufScalarTypeName, 'string'>, what: string): GgufValue {
  switch (type) {
    case 'u8': return { type, value: buf.readUInt8(0) };
    case 'i8': return { type, value: buf.readInt8(0) };
    case 'u16': return { type, value: buf.readUInt16LE(0) };
    case 'i16': return { type, value: buf.readInt16LE(0) };
    case 'u32': return { type, value: buf.readUInt32LE(0) };
    case 'i32': return { type, value: buf.readInt32LE(0) };
    case 'f32': return { type, value: buf.readFloatLE(0) };
    case 'f64': return { type, value: buf.readDoubleLE(0) };
    case 'u64': return { type, value: buf.readBigUInt64LE(0) };
    case 'i64': return { type, value: buf.readBigInt64LE(0) };
    case 'bool': {
      const byte = buf.readUInt8(0);
      if (byte > 1) throw new ModelFormatError(`${what} is a bool with byte value ${byte}, expected 0 or 1`);
      return { type, value: byte === 1 };
    }
  }
}

/** Copies `bytes` into a fresh, aligned typed array of the item type (GGUF is little-endian, as are Node's hosts). */
function readNumericArray(bytes: Buffer, itemType: Exclude<GgufScalarTypeName, 'string' | 'bool'>, n: number): GgufValue {
  const copy = new Uint8Array(bytes).buffer;
  switch (itemType) {
    case 'u8': return { type: 'array', itemType, value: new Uint8Array(copy, 0, n) };
    case 'i8': return { type: 'array', itemType, value: new Int8Array(copy, 0, n) };
    case 'u16': return { type: 'array', itemType, value: new Uint16Array(copy, 0, n) };
    case 'i16': return { type: 'array', itemType, value: new Int16Array(copy, 0, n) };
    case 'u32': return { type: 'array', itemType, value: new Uint32Array(copy, 0, n) };
    case 'i32': return { type: 'array', itemType, value: new Int32Array(copy, 0, n) };
    case 'f32': return { type: 'array', itemType, value: new Float32Array(copy, 0, n) };
    case 'f64': return { type: 'array', itemType, value: new Float64Array(copy, 0, n) };
    case 'u64': return { type: 'array', itemType, value: new BigUint64Array(copy, 0, n) };
    case 'i64': return { type: 'array', itemType, value: new BigInt64Array(copy, 0, n) };
  }
}

async function readValueType(cursor: HeaderCursor, what: string): Promise<GgufScalarTypeName | 'array'> {
  const at = cursor.position;
  const id = await cursor.u32(`${what} type`);
  const name = TYPE_NAME_BY_ID.get(id);
  if (name === undefined) throw new ModelFormatError(`${what} has unknown value type ${id} at offset ${at}`);
  return name;
}

async function readValue(cursor: HeaderCursor, key: string): Promise<GgufValue> {
  const what = `Metadata key '${key}'`;
  const type = await readValueType(cursor, what);
  if (type === 'string') return { type, value: await cursor.string(`${what} string value`) };
  if (type !== 'array') {
    const size = GGUF_SCALAR_SIZE[type];
    await cursor.need(size, `${what} value`);
    return readScalar(cursor.take(size), type, what);
  }
  const itemType = await readValueType(cursor, `${what} array item`);
  if (itemType === 'array') throw new ModelFormatError(`${what} is a nested array, which GGUF readers reject`);
  const itemSize = itemType === 'string' ? 8 : GGUF_SCALAR_SIZE[itemType];
  const n = await cursor.count(`${what} array length`, Math.floor((cursor.budget - 8) / itemSize));
  if (itemType === 'string' || itemType === 'bool') cursor.addObjects(n, what);
  if (itemType === 'string') return { type, itemType, value: await cursor.strings(n, what) };
  await cursor.need(n * itemSize, `${what} array data`);
  const bytes = cursor.take(n * itemSize);
  if (itemType !== 'bool') return readNumericArray(bytes, itemType, n);
  const items = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    if (bytes[i]! > 1) throw new ModelFormatError(`${what}[${i}] is a bool with byte value ${bytes[i]}, expected 0 or 1`);
    items[i] = bytes[i] === 1;
  }
  return { type, itemType, value: items };
}

function readAlignment(metadata: GgufMetadata): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return GGUF_ALIGNMENT;
  if (value.type !== 'u32') throw new ModelFormatError(`Metadata key 'general.alignment' must be u32, found ${value.type}`);
  if (value.value === 0 || (value.value & (value.value - 1)) !== 0) {
    throw new ModelFormatError(`Metadata key 'general.alignment' is ${value.value}, not a power of two`);
  }
  return value.value;
}

interface RawTensorInfo extends Omit<GgufTensorInfo, 'offset'> {
  readonly offset: bigint;
}

async function readTensorInfo(cursor: HeaderCursor, index: number): Promise<RawTensorInfo> {
  const name = await cursor.string(`Tensor ${index} name`);
  const what = `Tensor '${name}'`;
  if (name.length === 0 || Buffer.byteLength(name) >= GGML_MAX_NAME) {
    throw new ModelFormatError(`Tensor ${index} name '${name}' must be 1 to ${GGML_MAX_NAME - 1} bytes long`);
  }
  const nDims = await cursor.u32(`${what} n_dims`);
  if (nDims < 1 || nDims > GGML_MAX_DIMS) throw new ModelFormatError(`${what} has ${nDims} dimensions, expected 1 to ${GGML_MAX_DIMS}`);
  const ne: number[] = [];
  let elements = 1;
  for (let i = 0; i < nDims; i++) {
    const dim = await cursor.count(`${what} ne[${i}]`, cursor.fileSize);
    if (dim === 0) throw new ModelFormatError(`${what} has ne[${i}] = 0`);
    elements *= dim;
    // A tensor can never hold more elements than its file has bits.
    if (elements > cursor.fileSize * 8) throw new ModelFormatError(`${what} shape [${ne.concat(dim).join(', ')}] is larger than the file`);
    ne.push(dim);
  }
  const typeId = await cursor.u32(`${what} type`);
  const type = GGML_TYPE_BY_ID.get(typeId);
  if (type === undefined) throw new ModelFormatError(`${what} has unknown ggml type ${typeId}`);
  if (ne[0]! % type.blockSize !== 0) {
    throw new ModelFormatError(`${what} of type ${type.name} has ne[0] = ${ne[0]}, not a multiple of its block size ${type.blockSize}`);
  }
  const byteSize = (elements / type.blockSize) * type.typeSize;
  await cursor.need(8, `${what} offset`);
  return { name, ne, type, byteSize, offset: cursor.take(8).readBigUInt64LE(0) };
}

/** Checks the layout ggml's gguf reader insists on: aligned, in order, back to back, inside the file. */
function placeTensors(raw: readonly RawTensorInfo[], alignment: number, dataOffset: number, fileSize: number): GgufTensorInfo[] {
  let expected = 0;
  return raw.map((tensor) => {
    const what = `Tensor '${tensor.name}'`;
    if (tensor.offset % BigInt(alignment) !== 0n) throw new ModelFormatError(`${what} offset ${tensor.offset} is not aligned to ${alignment}`);
    if (tensor.offset < BigInt(expected)) throw new ModelFormatError(`${what} offset ${tensor.offset} overlaps the previous tensor (which ends at ${expected})`);
    if (tensor.offset > BigInt(expected)) throw new ModelFormatError(`${what} offset ${tensor.offset} leaves a gap: ggml requires offset ${expected}`);
    const end = dataOffset + expected + tensor.byteSize;
    if (end > fileSize) throw new ModelFormatError(`${what} data (offset ${tensor.offset}, ${tensor.byteSize} bytes) ends at ${end}, beyond the file size ${fileSize}`);
    const placed = { ...tensor, offset: expected };
    expected = alignUp(expected + tensor.byteSize, alignment);
    return placed;
  });
}

/** Reads and validates a GGUF header (metadata and tensor infos, never tensor data). */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    throw new ModelFormatError(`Cannot open GGUF file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const { size: fileSize } = await fh.stat();
    const cursor = new HeaderCursor(fh, fileSize);
    const magic = await cursor.u32('GGUF magic');
    if (magic !== GGUF_MAGIC) throw new ModelFormatError(`Not a GGUF file: bad magic 0x${magic.toString(16).padStart(8, '0')} at offset 0`);
    const version = await cursor.u32('GGUF version');
    if (version !== 2 && version !== 3) throw new ModelFormatError(`Unsupported GGUF version ${version} at offset 4 (expected 2 or 3, little-endian)`);
    const tensorCount = await cursor.count('Tensor count', Math.floor(cursor.budget / MIN_TENSOR_INFO_BYTES));
    const kvCount = await cursor.count('Metadata key count', Math.floor(cursor.budget / MIN_KV_BYTES));
    if (tensorCount > MAX_GGUF_TENSORS) throw new ModelFormatError(`Tensor count is ${tensorCount}, more than the cap of ${MAX_GGUF_TENSORS}`);
    if (kvCount > MAX_GGUF_METADATA_KEYS) throw new ModelFormatError(`Metadata key count is ${kvCount}, more than the cap of ${MAX_GGUF_METADATA_KEYS}`);

    const metadata: GgufMetadata = new Map();
    const metadataSpans = new Map<string, ByteSpan>();
    for (let i = 0; i < kvCount; i++) {
      const start = cursor.position;
      const key = await cursor.string(`Metadata key ${i}`);
      if (key.length === 0) throw new ModelFormatError(`Metadata key ${i} is empty`);
      if (metadata.has(key)) throw new ModelFormatError(`Metadata key '${key}' appears twice`);
      metadata.set(key, await readValue(cursor, key));
      metadataSpans.set(key, [start, cursor.position]);
    }
    const alignment = readAlignment(metadata);

    const raw: RawTensorInfo[] = [];
    const tensorInfoSpans: ByteSpan[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const start = cursor.position;
      const info = await readTensorInfo(cursor, i);
      tensorInfoSpans.push([start, cursor.position]);
      if (names.has(info.name)) throw new ModelFormatError(`Tensor '${info.name}' appears twice`);
      names.add(info.name);
      raw.push(info);
    }
    const dataOffset = alignUp(cursor.position, alignment);
    if (tensorCount > 0 && dataOffset > fileSize) {
      throw new ModelFormatError(`Data section would start at ${dataOffset}, beyond the file size ${fileSize}`);
    }
    const tensors = placeTensors(raw, alignment, dataOffset, fileSize);
    return { version, fileSize, alignment, dataOffset, metadata, tensors, spans: { metadata: metadataSpans, tensorInfos: tensorInfoSpans } };
  } finally {
    await fh.close();
  }
}
