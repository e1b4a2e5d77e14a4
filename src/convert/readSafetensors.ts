// SPDX-License-Identifier: MIT
// Reads the tensor catalogue of a HuggingFace checkpoint (one model.safetensors, or shards
// listed in model.safetensors.index.json) and streams tensor bytes in bounded chunks. The
// safetensors header (8-byte little-endian length, then JSON) is parsed here and every offset
// is checked against the file size, so a corrupt checkpoint fails with a ConvertError naming
// the file and tensor rather than with garbage weights.

import { open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { ConvertError } from '../errors.js';

export interface SafetensorsTensor {
  readonly name: string;
  readonly file: string;
  readonly dtype: string;
  /** PyTorch order, outermost first. */
  readonly shape: readonly number[];
  /** Absolute offset of the first byte in `file`. */
  readonly start: number;
  readonly byteLength: number;
}

/** safetensors' own limit on the JSON header. */
const MAX_HEADER_BYTES = 100_000_000;
const DTYPE_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};
const SINGLE_FILE = 'model.safetensors';
const INDEX_FILE = 'model.safetensors.index.json';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

async function readHeaderJson(file: string): Promise<{ json: Record<string, unknown>; dataStart: number; fileSize: number }> {
  const where = basename(file);
  const fh = await open(file, 'r').catch((error: unknown) => {
    throw new ConvertError(`Cannot open ${file}: ${(error as Error).message}`, { cause: error });
  });
  try {
    const { size: fileSize } = await fh.stat();
    const lengthBytes = Buffer.alloc(8);
    if (fileSize < 8 || (await fh.read(lengthBytes, 0, 8, 0)).bytesRead !== 8) throw new ConvertError(`${where}: file too short for a safetensors header`);
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
      throw new ConvertError(`${where}: header length ${headerLength} exceeds the file size ${fileSize} or the ${MAX_HEADER_BYTES}-byte limit`);
    }
    const header = Buffer.alloc(Number(headerLength));
    if ((await fh.read(header, 0, header.length, 8)).bytesRead !== header.length) throw new ConvertError(`${where}: header is truncated`);
    let json: unknown;
    try {
      json = JSON.parse(header.toString('utf8'));
    } catch (error) {
      throw new ConvertError(`${where}: header is not valid JSON`, { cause: error });
    }
    if (!isRecord(json)) throw new ConvertError(`${where}: header is not a JSON object`);
    return { json, dataStart: 8 + header.length, fileSize };
  } finally {
    await fh.close();
  }
}

/** Parses one safetensors file's header and checks every tensor's dtype, shape and byte range. */
async function readSafetensorsHeader(file: string): Promise<SafetensorsTensor[]> {
  const where = basename(file);
  const { json, dataStart, fileSize } = await readHeaderJson(file);
  const dataSize = fileSize - dataStart;
  const tensors: SafetensorsTensor[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const what = `${where}: tensor '${name}'`;
    if (!isRecord(entry)) throw new ConvertError(`${what} has no descriptor object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || DTYPE_SIZE[dtype] === undefined) throw new ConvertError(`${what} has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) throw new ConvertError(`${what} has invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new ConvertError(`${what} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataSize) throw new ConvertError(`${what} data_offsets [${begin}, ${end}] lie outside the ${dataSize}-byte data section`);
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      throw new ConvertError(`${what} spans ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
    }
    tensors.push({ name, file, dtype, shape: shape as number[], start: dataStart + begin, byteLength: end - begin });
  }
  const sorted = [...tensors].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (sorted[i]!.start < prev.start + prev.byteLength) throw new ConvertError(`${where}: tensors '${prev.name}' and '${sorted[i]!.name}' overlap`);
  }
  return tensors;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function readShardList(dir: string): Promise<Map<string, string>> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8'));
  } catch (error) {
    throw new ConvertError(`${INDEX_FILE} cannot be read as JSON: ${(error as Error).message}`, { cause: error });
  }
  const weightMap = isRecord(index) ? index.weight_map : undefined;
  if (!isRecord(weightMap)) throw new ConvertError(`${INDEX_FILE} has no weight_map object`);
  const shardOf = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shards sit next to the index; anything else could read files outside the checkpoint.
    if (typeof shard !== 'string' || shard !== basename(shard) || shard === '..' || shard === '.') {
      throw new ConvertError(`${INDEX_FILE}: weight_map entry for '${name}' is not a file name in the checkpoint folder: ${JSON.stringify(shard)}`);
    }
    shardOf.set(name, shard);
  }
  return shardOf;
}

/** Every tensor of the checkpoint in `dir`, by HuggingFace name. */
export async function readCheckpointTensors(dir: string): Promise<Map<string, SafetensorsTensor>> {
  const byName = new Map<string, SafetensorsTensor>();
  if (await exists(join(dir, SINGLE_FILE))) {
    for (const tensor of await readSafetensorsHeader(join(dir, SINGLE_FILE))) byName.set(tensor.name, tensor);
    return byName;
  }
  if (!(await exists(join(dir, INDEX_FILE)))) throw new ConvertError(`Missing weights: neither ${SINGLE_FILE} nor ${INDEX_FILE} in ${dir}`);
  const shardOf = await readShardList(dir);
  for (const shard of new Set(shardOf.values())) {
    const file = join(dir, shard);
    if (!(await exists(file))) throw new ConvertError(`Missing shard ${shard} (listed in ${INDEX_FILE}) in ${dir}`);
    for (const tensor of await readSafetensorsHeader(file)) {
      if (byName.has(tensor.name)) throw new ConvertError(`Tensor '${tensor.name}' appears in both ${basename(byName.get(tensor.name)!.file)} and ${shard}`);
      byName.set(tensor.name, tensor);
    }
  }
  for (const [name, shard] of shardOf) {
    if (basename(byName.get(name)?.file ?? '') !== shard) throw new ConvertError(`Tensor '${name}' is listed in ${INDEX_FILE} under ${shard} but is not in that shard`);
  }
  return byName;
}

/**
 * Streams a tensor's bytes in chunks of at most `chunkBytes` (pass a multiple of the element
 * size). Each chunk is a fresh ArrayBuffer, so it can be viewed as a typed array without copying.
 */
export async function* readTensorChunks(tensor: SafetensorsTensor, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const fh = await open(tensor.file, 'r');
  try {
    for (let done = 0; done < tensor.byteLength; ) {
      const chunk = new Uint8Array(Math.min(chunkBytes, tensor.byteLength - done));
      for (let filled = 0; filled < chunk.length; ) {
        const { bytesRead } = await fh.read(chunk, filled, chunk.length - filled, tensor.start + done + filled);
        if (bytesRead === 0) throw new ConvertError(`${basename(tensor.file)}: unexpected end of file in tensor '${tensor.name}'`);
        filled += bytesRead;
      }
      done += chunk.length;
      yield chunk;
    }
  } finally {
    await fh.close();
  }
}
