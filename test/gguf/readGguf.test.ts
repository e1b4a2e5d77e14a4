// SPDX-License-Identifier: MIT
// Hostile and broken GGUF files, assembled byte by byte (independently of our writer): every one
// must end in a ModelFormatError that says what is wrong, never a RangeError or a crash.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ModelFormatError } from '../../src/errors.js';
import { MAX_GGUF_ARRAY_OBJECTS, MAX_GGUF_METADATA_KEYS, MAX_GGUF_TENSORS, readGgufHeader } from '../../src/gguf/readGguf.js';

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string | Buffer): Buffer => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([u64(bytes.length), bytes]);
};
const T = { u8: 0, u32: 4, f32: 6, bool: 7, string: 8, array: 9 } as const;
const kv = (key: string | Buffer, type: number, payload: Buffer): Buffer => Buffer.concat([str(key), u32(type), payload]);
const tensorInfo = (name: string, ne: (number | bigint)[], type: number, offset: number | bigint): Buffer =>
  Buffer.concat([str(name), u32(ne.length), ...ne.map(u64), u32(type), u64(offset)]);

interface Parts {
  magic?: Buffer;
  version?: number;
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
  kvs?: Buffer[];
  tensors?: Buffer[];
  data?: Buffer;
}
function gguf(parts: Parts): Buffer {
  const kvs = parts.kvs ?? [];
  const tensors = parts.tensors ?? [];
  const head = Buffer.concat([
    parts.magic ?? Buffer.from('GGUF'),
    u32(parts.version ?? 3),
    u64(parts.tensorCount ?? tensors.length),
    u64(parts.kvCount ?? kvs.length),
    ...kvs,
    ...tensors,
  ]);
  return Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32), parts.data ?? Buffer.alloc(0)]);
}

/** A valid file: two F32 tensors of 4 and 2 elements, back to back at 32-byte alignment. */
const validKvs = [kv('general.architecture', T.string, str('qwen2')), kv('x.list', T.array, Buffer.concat([u32(T.string), u64(2), str('a'), str('bc')]))];
const validTensors = [tensorInfo('w', [4], 0, 0), tensorInfo('v', [2], 0, 32)];
const valid = gguf({ kvs: validKvs, tensors: validTensors, data: Buffer.alloc(40, 1) });

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-read-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(bytes: Buffer): ReturnType<typeof readGgufHeader> {
  const path = join(dir, `f${counter++}.gguf`);
  await writeFile(path, bytes);
  return readGgufHeader(path);
}

async function rejects(bytes: Buffer, message: RegExp): Promise<void> {
  const error = await read(bytes).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelFormatError);
  expect((error as Error).message).toMatch(message);
}

describe('readGgufHeader()', () => {
  it('reads the valid base file', async () => {
    const header = await read(valid);
    expect(header.tensors.map((t) => [t.name, t.offset, t.byteSize])).toEqual([['w', 0, 16], ['v', 32, 8]]);
    expect(header.metadata.get('x.list')).toEqual({ type: 'array', itemType: 'string', value: ['a', 'bc'] });
  });

  it('rejects a missing file, a bad magic and unsupported versions', async () => {
    await expect(readGgufHeader(join(dir, 'nope.gguf'))).rejects.toThrow(ModelFormatError);
    await rejects(gguf({ magic: Buffer.from('GGML') }), /bad magic/);
    await rejects(Buffer.from('PK\x03\x04 this is a zip'), /bad magic/);
    await rejects(gguf({ version: 1 }), /version 1/);
    await rejects(gguf({ version: 4 }), /version 4/);
    await rejects(gguf({ version: 0x03000000 }), /version 50331648/); // big-endian file
  });

  it('rejects every truncation that cuts into the header or tensor data', async () => {
    const dataEnd = valid.length - 40 + 32 + 8; // the last tensor's bytes, without trailing padding
    let checked = 0;
    for (let cut = 0; cut < dataEnd; cut++) {
      const error = await read(valid.subarray(0, cut)).then(() => undefined, (e: unknown) => e);
      expect(error, `cut at ${cut}`).toBeInstanceOf(ModelFormatError);
      checked++;
    }
    expect(checked).toBe(dataEnd);
    await expect(read(valid.subarray(0, dataEnd))).resolves.toBeDefined();
  });

  it('rejects absurd counts and lengths before allocating', async () => {
    await rejects(gguf({ tensorCount: 2n ** 62n }), /Tensor count is 4611686018427387904 .* can fit/);
    await rejects(gguf({ kvCount: 1_000_000 }), /Metadata key count is 1000000/);
    await rejects(gguf({ kvs: [Buffer.concat([u64(2n ** 40n), Buffer.from('k')])] }), /Metadata key 0 length is 1099511627776/);
    await rejects(gguf({ kvs: [kv('s', T.string, u64(1e12))] }), /'s' string value length is 1000000000000/);
    await rejects(gguf({ kvs: [kv('a', T.array, Buffer.concat([u32(T.u32), u64(2n ** 61n)]))] }), /'a' array length is 2305843009213693952/);
    await rejects(gguf({ kvs: [kv('a', T.array, Buffer.concat([u32(T.string), u64(1e9)]))] }), /'a' array length is 1000000000/);
    await rejects(gguf({ tensors: [tensorInfo('t', [2n ** 40n, 2n ** 40n], 0, 0)] }), /Tensor 't' (ne\[0\] is|shape .* larger than the file)/);
  });

  it('caps the metadata key, tensor and array string/bool counts below what the byte budget allows', async () => {
    // Files long enough (a sparse tail) that the byte budget alone would let the counts through.
    const sparse = async (bytes: Buffer, size: number) => {
      const path = join(dir, `f${counter++}.gguf`);
      await writeFile(path, bytes);
      await truncate(path, size);
      const error = await readGgufHeader(path).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ModelFormatError);
      return (error as Error).message;
    };
    const size = 64 * 1024 * 1024;
    expect(await sparse(gguf({ kvCount: MAX_GGUF_METADATA_KEYS + 1 }), size)).toMatch(/Metadata key count is 65537, more than the cap of 65536/);
    expect(await sparse(gguf({ tensorCount: MAX_GGUF_TENSORS + 1 }), size)).toMatch(/Tensor count is 65537, more than the cap of 65536/);
    const strings = (key: string, n: number) => kv(key, T.array, Buffer.concat([u32(T.string), u64(n)]));
    expect(await sparse(gguf({ kvs: [strings('a', MAX_GGUF_ARRAY_OBJECTS + 1)] }), size)).toMatch(/'a' brings .* to 4194305, more than the cap of 4194304/);
    const bools = (key: string, n: number) => kv(key, T.array, Buffer.concat([u32(T.bool), u64(n), Buffer.alloc(n)]));
    const half = MAX_GGUF_ARRAY_OBJECTS / 2;
    expect(await sparse(gguf({ kvs: [bools('b', half), strings('c', half + 1)] }), size)).toMatch(/'c' brings .* to 4194305/);
  });

  it('rejects unknown value types, nested arrays, bad bools and bad UTF-8', async () => {
    await rejects(gguf({ kvs: [kv('k', 13, u32(0))] }), /'k' type.*unknown value type 13|'k' has unknown value type 13/);
    await rejects(gguf({ kvs: [kv('k', T.array, Buffer.concat([u32(42), u64(0)]))] }), /'k' array item has unknown value type 42/);
    await rejects(gguf({ kvs: [kv('k', T.array, Buffer.concat([u32(T.array), u64(0)]))] }), /nested array/);
    await rejects(gguf({ kvs: [kv('k', T.bool, Buffer.from([2]))] }), /'k' is a bool with byte value 2/);
    await rejects(gguf({ kvs: [kv('k', T.array, Buffer.concat([u32(T.bool), u64(2), Buffer.from([1, 7])]))] }), /'k'\[1\] is a bool/);
    await rejects(gguf({ kvs: [kv(Buffer.from([0x66, 0xff]), T.u8, Buffer.from([0]))] }), /Metadata key 0 at offset 32 is not valid UTF-8/);
    await rejects(gguf({ kvs: [kv('k', T.string, str(Buffer.from([0xc3, 0x28])))] }), /'k' string value .* not valid UTF-8/);
    await rejects(gguf({ kvs: [kv('k', T.array, Buffer.concat([u32(T.string), u64(2), str('ok'), str(Buffer.from([0xed, 0xa0, 0x80]))]))] }), /'k'\[1\] .* not valid UTF-8/);
  });

  it('keeps valid U+FFFD and a leading BOM in strings', async () => {
    const header = await read(gguf({ kvs: [kv('k', T.array, Buffer.concat([u32(T.string), u64(2), str('\uFFFD'), str('\uFEFFx')]))] }));
    expect(header.metadata.get('k')).toEqual({ type: 'array', itemType: 'string', value: ['\uFFFD', '\uFEFFx'] });
  });

  it('rejects empty and duplicate keys, and a bad general.alignment', async () => {
    await rejects(gguf({ kvs: [kv('', T.u8, Buffer.from([0]))] }), /Metadata key 0 is empty/);
    await rejects(gguf({ kvs: [kv('k', T.u8, Buffer.from([0])), kv('k', T.u8, Buffer.from([1]))] }), /'k' appears twice/);
    await rejects(gguf({ kvs: [kv('general.alignment', T.u32, u32(24))] }), /not a power of two/);
    await rejects(gguf({ kvs: [kv('general.alignment', T.u32, u32(0))] }), /not a power of two/);
    await rejects(gguf({ kvs: [kv('general.alignment', T.f32, u32(0))] }), /must be u32/);
  });

  it('rejects bad tensor names, dimensions and types', async () => {
    const data = Buffer.alloc(64);
    await rejects(gguf({ tensors: [tensorInfo('', [1], 0, 0)], data }), /Tensor 0 name '' must be 1 to 63 bytes/);
    await rejects(gguf({ tensors: [tensorInfo('n'.repeat(64), [1], 0, 0)], data }), /must be 1 to 63 bytes/);
    await rejects(gguf({ tensors: [tensorInfo('t', [1], 0, 0), tensorInfo('t', [1], 0, 32)], data }), /'t' appears twice/);
    await rejects(gguf({ tensors: [tensorInfo('t', [], 0, 0)], data }), /'t' has 0 dimensions/);
    await rejects(gguf({ tensors: [tensorInfo('t', [1, 1, 1, 1, 1], 0, 0)], data }), /'t' has 5 dimensions/);
    await rejects(gguf({ tensors: [tensorInfo('t', [4, 0], 0, 0)], data }), /'t' has ne\[1\] = 0/);
    await rejects(gguf({ tensors: [tensorInfo('t', [4], 4, 0)], data }), /'t' has unknown ggml type 4/);
    await rejects(gguf({ tensors: [tensorInfo('t', [4], 99, 0)], data }), /unknown ggml type 99/);
    await rejects(gguf({ tensors: [tensorInfo('t', [33], 8, 0)], data }), /'t' of type Q8_0 has ne\[0\] = 33, not a multiple of its block size 32/);
  });

  it('rejects misaligned, overlapping, gapped and out-of-bounds tensor data', async () => {
    const data = Buffer.alloc(64);
    await rejects(gguf({ tensors: [tensorInfo('t', [1], 0, 4)], data }), /'t' offset 4 is not aligned to 32/);
    await rejects(gguf({ tensors: [tensorInfo('a', [16], 0, 0), tensorInfo('b', [1], 0, 32)], data }), /'b' offset 32 overlaps the previous tensor \(which ends at 64\)/);
    await rejects(gguf({ tensors: [tensorInfo('a', [1], 0, 0), tensorInfo('b', [1], 0, 64)], data }), /'b' offset 64 leaves a gap: ggml requires offset 32/);
    await rejects(gguf({ tensors: [tensorInfo('a', [17], 0, 0)], data }), /'a' data .* beyond the file size/);
    await rejects(gguf({ tensors: [tensorInfo('a', [1], 0, 2n ** 63n)], data }), /'a' offset 9223372036854775808/);
  });

  it('never fails with anything but ModelFormatError on random corruption', async () => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.from(valid);
      for (let flips = 1 + (random() % 3); flips > 0; flips--) bytes[random() % bytes.length] = random() & 0xff;
      const error = await read(bytes).then(() => undefined, (e: unknown) => e);
      if (error === undefined) outcomes.ok++;
      else {
        expect(error, String(error)).toBeInstanceOf(ModelFormatError);
        outcomes.rejected++;
      }
    }
    expect(outcomes.ok + outcomes.rejected).toBe(400);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});
