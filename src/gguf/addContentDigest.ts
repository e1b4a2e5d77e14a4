// SPDX-License-Identifier: MIT
// Rewrites a GGUF written by someone else (llama.cpp's quantizer) with the content digest added:
// the header grows, so the tensor data moves; it is streamed across, a chunk at a time, and hashed
// on the way by writeGguf. Any digest keys the input carried (copied from the quantizer's float
// input, say) are replaced, since they described other bytes.

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import { readGgufHeader } from './readGguf.js';
import { writeGguf } from './writeGguf.js';

const COPY_CHUNK_BYTES = 8 << 20;

/** Yields `length` bytes of `fh` from `start`, reusing one buffer: writeGguf is done with a chunk before it asks for the next. */
async function* readRange(fh: FileHandle, start: number, length: number): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, length));
  for (let done = 0; done < length; ) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
    if (bytesRead === 0) throw new Error(`Unexpected end of file at offset ${start + done}`);
    yield buffer.subarray(0, bytesRead);
    done += bytesRead;
  }
}

/** Writes `inPath` plus its content digest to `outPath` (atomically, as writeGguf does). */
export async function addContentDigest(inPath: string, outPath: string): Promise<void> {
  const header = await readGgufHeader(inPath);
  const fh = await open(inPath, 'r');
  try {
    const tensors = header.tensors.map((tensor) => ({
      name: tensor.name,
      shape: [...tensor.ne].reverse(),
      type: tensor.type.name,
      chunks: () => readRange(fh, header.dataOffset + tensor.offset, tensor.byteSize),
    }));
    await writeGguf(outPath, header.metadata, tensors, { digest: true });
  } finally {
    await fh.close();
  }
}
