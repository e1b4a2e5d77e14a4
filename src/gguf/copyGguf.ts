// SPDX-License-Identifier: MIT
// Copies a GGUF's tensors, byte for byte, into a new file with (optionally) edited metadata and a
// fresh content digest. The converter uses it on llama.cpp's quantizer output, which has no digest
// (or a copy of its float input's, now wrong); any tool that edits a logtriage GGUF's metadata
// uses it so the result stays verifiable. The header may grow, so the data moves: it is streamed
// across a chunk at a time and hashed on the way by writeGguf.

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import type { GgufMetadata } from './ggufTypes.js';
import { readGgufHeader } from './readGguf.js';
import { writeGguf } from './writeGguf.js';

const COPY_CHUNK_BYTES = 8 << 20;

export interface CopyGgufOptions {
  /** Edits the metadata (read from `inPath`) before it is written. */
  readonly editMetadata?: (metadata: GgufMetadata) => void;
  /** Write a fresh content digest (replacing any logtriage.digest.* keys). Default true. */
  readonly digest?: boolean;
}

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

/** Writes `inPath`'s tensors and (edited) metadata to `outPath`, atomically as writeGguf does. */
export async function copyGguf(inPath: string, outPath: string, options: CopyGgufOptions = {}): Promise<void> {
  const header = await readGgufHeader(inPath);
  const metadata = new Map(header.metadata);
  options.editMetadata?.(metadata);
  const fh = await open(inPath, 'r');
  try {
    const tensors = header.tensors.map((tensor) => ({
      name: tensor.name,
      shape: [...tensor.ne].reverse(),
      type: tensor.type.name,
      chunks: () => readRange(fh, header.dataOffset + tensor.offset, tensor.byteSize),
    }));
    await writeGguf(outPath, metadata, tensors, { digest: options.digest ?? true });
  } finally {
    await fh.close();
  }
}
