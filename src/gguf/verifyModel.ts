// SPDX-License-Identifier: MIT
// Recomputes a GGUF's content digest (contentDigest.ts) in one sequential pass over the file and
// names the first metadata key or tensor that differs. Reads are large and double-buffered: the
// next chunk is read on libuv's thread pool while this one is hashed (OpenSSL SHA-256) here.

import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

import { z } from 'zod';

import { IntegrityError, ModelFormatError } from '../errors.js';
import { parseOptions } from '../options.js';
import { DIGEST_KEY, DigestShapeError, isDigestedKey, readStoredDigest } from './contentDigest.js';
import { readGgufHeader } from './readGguf.js';

export type VerifyResult =
  | { readonly status: 'verified'; readonly path: string; readonly bytes: number; readonly tensors: number; readonly keys: number }
  | { readonly status: 'mismatch'; readonly path: string; readonly kind: 'tensor' | 'metadata'; readonly name: string; readonly message: string }
  | { readonly status: 'unverifiable'; readonly path: string; readonly message: string };

export interface VerifyOptions {
  /** Called after each chunk hashed; `bytesTotal` is the span of the file the digest covers. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Bytes per read (default 8 MiB); two buffers of this size are in use. */
  readonly chunkBytes?: number;
}

const verifyOptionsSchema = z
  .object({
    onProgress: z.custom<(bytesDone: number, bytesTotal: number) => void>((v) => typeof v === 'function', { message: 'a function' }).optional(),
    chunkBytes: z.number().int().min(4096).max(1 << 30).default(8 << 20),
  })
  .strict();

interface Slot {
  readonly kind: 'tensor' | 'metadata';
  readonly name: string;
  readonly expected: string;
  readonly hash: Hash;
  /** Regions of the file still to be hashed into this slot. */
  pending: number;
}

/** One read: which of the two buffers, where in the file, how much arrived. */
interface Chunk {
  readonly index: number;
  readonly position: number;
  readonly bytesRead: number;
}

interface Region {
  readonly start: number;
  readonly end: number;
  readonly slot: Slot;
}

function mismatch(path: string, slot: Pick<Slot, 'kind' | 'name'>, why: string): VerifyResult {
  const what = slot.kind === 'tensor' ? `Tensor '${slot.name}'` : `Metadata key '${slot.name}'`;
  return { status: 'mismatch', path, kind: slot.kind, name: slot.name, message: `${what} ${why}` };
}

/**
 * Checks a GGUF against its content digest. Resolves to 'verified', to 'mismatch' naming the first
 * metadata key or tensor (in file order) that differs, or to 'unverifiable' for a file without a
 * digest (e.g. from another converter). A header that cannot be read is a ModelFormatError.
 */
export async function verifyModel(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const opts = parseOptions(verifyOptionsSchema, options, 'verifyModel() options');
  const header = await readGgufHeader(path);
  const spans = header.spans!;
  let stored;
  try {
    stored = readStoredDigest(header.metadata, header.tensors.length);
  } catch (error) {
    if (error instanceof DigestShapeError) return { status: 'mismatch', path, kind: 'metadata', name: error.key, message: `The digest is malformed: ${error.message}` };
    throw error;
  }
  if (stored === undefined) {
    return { status: 'unverifiable', path, message: `${path} has no content digest (${DIGEST_KEY.version}): it was not written by logtriage convert, so it cannot be verified` };
  }

  const listed = new Set(stored.metadataKeys);
  const missing = stored.metadataKeys.find((key) => !header.metadata.has(key));
  if (missing !== undefined) return mismatch(path, { kind: 'metadata', name: missing }, 'is listed in the digest but missing from the file');
  const uncovered = [...header.metadata.keys()].find((key) => isDigestedKey(key) && !listed.has(key));
  if (uncovered !== undefined) {
    return mismatch(path, { kind: 'metadata', name: uncovered }, 'is not covered by the digest: it was added or renamed after the digest was written');
  }

  const regions: Region[] = [];
  stored.metadataKeys.forEach((name, i) => {
    const slot: Slot = { kind: 'metadata', name, expected: stored.metadata[i]!, hash: createHash('sha256'), pending: 1 };
    const [start, end] = spans.metadata.get(name)!;
    regions.push({ start, end, slot });
  });
  header.tensors.forEach((tensor, i) => {
    const slot: Slot = { kind: 'tensor', name: tensor.name, expected: stored.tensors[i]!, hash: createHash('sha256'), pending: 2 };
    const [start, end] = spans.tensorInfos[i]!;
    const dataStart = header.dataOffset + tensor.offset;
    regions.push({ start, end, slot }, { start: dataStart, end: dataStart + tensor.byteSize, slot });
  });
  // Key/value pairs, then tensor infos, then tensor data: file order, and never overlapping.
  regions.sort((a, b) => a.start - b.start);
  if (regions.length === 0) return { status: 'verified', path, bytes: header.fileSize, tensors: 0, keys: 0 };

  const begin = regions[0]!.start;
  const end = regions.at(-1)!.end;
  const fh = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(opts.chunkBytes), Buffer.allocUnsafe(opts.chunkBytes)];
  const read = (index: number, position: number): Promise<Chunk> =>
    fh.read(buffers[index]!, 0, Math.min(opts.chunkBytes, end - position), position).then(({ bytesRead }) => ({ index, position, bytesRead }));
  let pending: Promise<Chunk> | undefined = read(0, begin);
  try {
    let next = 0;
    while (pending !== undefined) {
      const { index, position, bytesRead }: Chunk = await pending;
      if (bytesRead === 0) throw new ModelFormatError(`${path} shrank while it was verified (read nothing at offset ${position})`);
      const chunkEnd: number = position + bytesRead;
      pending = chunkEnd < end ? read(1 - index, chunkEnd) : undefined;
      const chunk = buffers[index]!;
      for (; next < regions.length && regions[next]!.start < chunkEnd; next++) {
        const region = regions[next]!;
        const from = Math.max(region.start, position);
        const to = Math.min(region.end, chunkEnd);
        region.slot.hash.update(chunk.subarray(from - position, to - position));
        if (region.end > chunkEnd) break; // continues in the next chunk
        const { slot } = region;
        if (--slot.pending === 0 && slot.hash.digest('hex') !== slot.expected) {
          return mismatch(path, slot, slot.kind === 'tensor' ? 'does not match its digest (its data, type or shape changed)' : 'does not match its digest');
        }
      }
      opts.onProgress?.(chunkEnd - begin, end - begin);
    }
  } finally {
    await pending?.catch(() => undefined); // never close the handle under a read in flight
    await fh.close();
  }
  return { status: 'verified', path, bytes: header.fileSize, tensors: header.tensors.length, keys: stored.metadataKeys.length };
}

/** verifyModel, throwing IntegrityError unless the file is verified (what open({ verify: true }) and pull use). */
export async function requireVerifiedModel(path: string, options: VerifyOptions = {}): Promise<void> {
  const result = await verifyModel(path, options);
  if (result.status !== 'verified') throw new IntegrityError(result.status, result.message);
}
