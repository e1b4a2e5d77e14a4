// SPDX-License-Identifier: MIT
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GgufMetadata, GgufValue } from '../../src/gguf/ggufTypes.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { writeGguf } from '../../src/gguf/writeGguf.js';
import type { GgufTensorSource } from '../../src/gguf/writeGguf.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-write-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Yields `bytes` in uneven pieces, so the writer must stitch chunks together. */
function chunked(bytes: Uint8Array, sizes = [3, 7, 1, 64]): () => AsyncIterable<Uint8Array> {
  return async function* () {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      yield bytes.slice(at, at + size);
      at += size;
    }
  };
}

const everyType: [string, GgufValue][] = [
  ['t.u8', { type: 'u8', value: 255 }],
  ['t.i8', { type: 'i8', value: -128 }],
  ['t.u16', { type: 'u16', value: 65535 }],
  ['t.i16', { type: 'i16', value: -32768 }],
  ['t.u32', { type: 'u32', value: 4294967295 }],
  ['t.i32', { type: 'i32', value: -2147483648 }],
  ['t.f32', { type: 'f32', value: Math.fround(3.14159) }],
  ['t.f64', { type: 'f64', value: Math.PI }],
  ['t.u64', { type: 'u64', value: 18446744073709551615n }],
  ['t.i64', { type: 'i64', value: -9223372036854775808n }],
  ['t.bool.true', { type: 'bool', value: true }],
  ['t.bool.false', { type: 'bool', value: false }],
  ['t.string', { type: 'string', value: 'héllo 世界 🦙 \u0000 \uFEFFbom' }],
  ['t.string.empty', { type: 'string', value: '' }],
  ['a.u8', { type: 'array', itemType: 'u8', value: Uint8Array.of(0, 1, 255) }],
  ['a.i8', { type: 'array', itemType: 'i8', value: Int8Array.of(-128, 0, 127) }],
  ['a.u16', { type: 'array', itemType: 'u16', value: Uint16Array.of(0, 65535) }],
  ['a.i16', { type: 'array', itemType: 'i16', value: Int16Array.of(-32768, 32767) }],
  ['a.u32', { type: 'array', itemType: 'u32', value: Uint32Array.of(0, 4294967295) }],
  ['a.i32', { type: 'array', itemType: 'i32', value: Int32Array.of(-2147483648, 5) }],
  ['a.f32', { type: 'array', itemType: 'f32', value: Float32Array.of(-0, 1.5, -Infinity, 1e-45) }],
  ['a.f64', { type: 'array', itemType: 'f64', value: Float64Array.of(Number.MIN_VALUE, -1e300) }],
  ['a.u64', { type: 'array', itemType: 'u64', value: BigUint64Array.of(0n, 18446744073709551615n) }],
  ['a.i64', { type: 'array', itemType: 'i64', value: BigInt64Array.of(-1n, 9223372036854775807n) }],
  ['a.bool', { type: 'array', itemType: 'bool', value: [true, false, true] }],
  ['a.string', { type: 'array', itemType: 'string', value: ['a b', '', 'Ġthe', '<|endoftext|>', '日本'] }],
  ['a.empty', { type: 'array', itemType: 'f32', value: new Float32Array(0) }],
];

const f32Data = new Uint8Array(Float32Array.from({ length: 15 }, (_, i) => i * 0.25 - 1).buffer);
const f16Data = new Uint8Array(Uint16Array.from({ length: 7 }, (_, i) => 0x3c00 + i).buffer);
const bf16Data = new Uint8Array(Uint16Array.from({ length: 24 }, (_, i) => 0x3f80 + i).buffer);
const tensors: GgufTensorSource[] = [
  { name: 'a.f32', shape: [3, 5], type: 'F32', chunks: chunked(f32Data) },
  { name: 'b.f16', shape: [7], type: 'F16', chunks: chunked(f16Data) },
  { name: 'c.bf16', shape: [2, 3, 4], type: 'BF16', chunks: chunked(bf16Data) },
];

describe('writeGguf()', () => {
  it('round-trips every metadata type and F32/F16/BF16 tensors through readGgufHeader', async () => {
    const path = join(dir, 'all.gguf');
    const metadata: GgufMetadata = new Map(everyType);
    const { bytes } = await writeGguf(path, metadata, tensors);
    const file = await readFile(path);
    expect(file.length).toBe(bytes);

    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(header.metadata.get('general.alignment')).toEqual({ type: 'u32', value: 32 });
    expect([...header.metadata.keys()]).toEqual([...everyType.map(([key]) => key), 'general.alignment']);
    for (const [key, value] of everyType) expect(header.metadata.get(key), key).toEqual(value);

    expect(header.dataOffset % 32).toBe(0);
    expect(header.tensors.map((t) => [t.name, t.ne, t.type.name, t.byteSize])).toEqual([
      ['a.f32', [5, 3], 'F32', 60],
      ['b.f16', [7], 'F16', 14],
      ['c.bf16', [4, 3, 2], 'BF16', 48],
    ]);
    expect(header.tensors.map((t) => t.offset)).toEqual([0, 64, 96]);
    const data = [f32Data, f16Data, bf16Data];
    header.tensors.forEach((t, i) => {
      expect(t.offset % 32).toBe(0);
      const start = header.dataOffset + t.offset;
      expect(new Uint8Array(file.subarray(start, start + t.byteSize))).toEqual(data[i]);
    });
    // Every tensor, the last included, is padded to the alignment.
    expect(file.length).toBe(header.dataOffset + 96 + 64);
  });

  it('writes a header-only file when there are no tensors', async () => {
    const path = join(dir, 'empty.gguf');
    await writeGguf(path, new Map([['general.architecture', { type: 'string', value: 'qwen2' }]]), []);
    const header = await readGgufHeader(path);
    expect(header.tensors).toEqual([]);
    expect(header.metadata.get('general.architecture')).toEqual({ type: 'string', value: 'qwen2' });
  });

  it('removes its temporary file and leaves an existing output untouched when a source fails', async () => {
    const path = join(dir, 'keep.gguf');
    await writeFile(path, 'previous');
    const failing: GgufTensorSource = {
      name: 'bad',
      shape: [4],
      type: 'F32',
      chunks: async function* () {
        yield new Uint8Array(8);
        throw new Error('source broke');
      },
    };
    await expect(writeGguf(path, new Map(), [failing])).rejects.toThrow('source broke');
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses sources that yield the wrong number of bytes', async () => {
    const short: GgufTensorSource = { name: 's', shape: [4], type: 'F32', chunks: chunked(new Uint8Array(12)) };
    const long: GgufTensorSource = { name: 'l', shape: [1], type: 'F16', chunks: chunked(new Uint8Array(4)) };
    await expect(writeGguf(join(dir, 'short.gguf'), new Map(), [short])).rejects.toThrow(/yielded 12 bytes, expected 16/);
    await expect(writeGguf(join(dir, 'long.gguf'), new Map(), [long])).rejects.toThrow(/more than 2 bytes/);
    expect((await readdir(dir)).filter((f) => f.includes('short') || f.includes('long'))).toEqual([]);
  });

  it('refuses invalid tensor names, shapes and alignment before creating any file', async () => {
    const source = (name: string, shape: number[]): GgufTensorSource => ({ name, shape, type: 'F32', chunks: chunked(new Uint8Array(0)) });
    const path = join(dir, 'invalid.gguf');
    await expect(writeGguf(path, new Map(), [source('x'.repeat(64), [1])])).rejects.toThrow(/1 to 63 bytes/);
    await expect(writeGguf(path, new Map(), [source('x', [1]), source('x', [1])])).rejects.toThrow(/Duplicate/);
    await expect(writeGguf(path, new Map(), [source('x', [0])])).rejects.toThrow(/invalid shape/);
    await expect(writeGguf(path, new Map(), [source('x', [1, 1, 1, 1, 1])])).rejects.toThrow(/invalid shape/);
    await expect(writeGguf(path, new Map([['general.alignment', { type: 'u32', value: 64 }]]), [])).rejects.toThrow(/alignment/);
    await expect(writeGguf(path, new Map([['k', { type: 'array', itemType: 'string', value: ['ok', 'lone \ud800'] }]]), [])).rejects.toThrow(/not well-formed UTF-16/);
    await expect(writeGguf(path, new Map(), [{ ...source('x', [32]), type: 'Q9_9' }])).rejects.toThrow("Tensor 'x' has unknown ggml type 'Q9_9'");
    await expect(writeGguf(path, new Map(), [{ ...source('x', [2, 48]), type: 'Q8_0' }])).rejects.toThrow('innermost dimension 48 is not a multiple of 32');
    expect((await readdir(dir)).filter((f) => f.startsWith('invalid'))).toEqual([]);
  });

  it('copies quantized tensors as raw blocks (size from the type block size)', async () => {
    const q8 = new Uint8Array(2 * 34).map((_, i) => i); // 2 rows of one Q8_0 block (32 values, 34 bytes)
    const path = join(dir, 'q8.gguf');
    await writeGguf(path, new Map(), [{ name: 'q', shape: [2, 32], type: 'Q8_0', chunks: chunked(q8) }]);
    const header = await readGgufHeader(path);
    expect(header.tensors.map((t) => [t.name, t.type.name, t.ne, t.byteSize])).toEqual([['q', 'Q8_0', [32, 2], 68]]);
    expect(new Uint8Array((await readFile(path)).subarray(header.dataOffset, header.dataOffset + 68))).toEqual(q8);
  });

  it('with digest: appends the four digest keys last, replacing stale ones, with real hashes where the placeholders were', async () => {
    const stale: GgufMetadata = new Map([
      ['general.architecture', { type: 'string', value: 'qwen2' }],
      ['logtriage.digest.version', { type: 'u32', value: 7 }],
      ['general.name', { type: 'string', value: 'n' }],
    ]);
    const path = join(dir, 'digest.gguf');
    const { bytes } = await writeGguf(path, stale, tensors, { digest: true });
    const header = await readGgufHeader(path);
    expect(bytes).toBe(header.fileSize);
    expect([...header.metadata.keys()]).toEqual([
      'general.architecture', 'general.name', 'general.alignment',
      'logtriage.digest.version', 'logtriage.digest.tensors', 'logtriage.digest.metadata_keys', 'logtriage.digest.metadata',
    ]);
    expect(header.metadata.get('logtriage.digest.version')).toEqual({ type: 'u32', value: 1 });
    expect(header.metadata.get('logtriage.digest.metadata_keys')!.value).toEqual(['general.architecture', 'general.alignment']);
    const file = await readFile(path);
    const sha = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
    const [archStart, archEnd] = header.spans!.metadata.get('general.architecture')!;
    expect((header.metadata.get('logtriage.digest.metadata')!.value as string[])[0]).toBe(sha(file.subarray(archStart, archEnd)));
    const expected = header.tensors.map((t, i) => {
      const [start, end] = header.spans!.tensorInfos[i]!;
      return sha(file.subarray(start, end), file.subarray(header.dataOffset + t.offset, header.dataOffset + t.offset + t.byteSize));
    });
    expect(header.metadata.get('logtriage.digest.tensors')!.value).toEqual(expected);
    expect(expected).not.toContain('0'.repeat(64));
  });
});
