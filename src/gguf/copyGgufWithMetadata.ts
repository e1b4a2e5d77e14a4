// SPDX-License-Identifier: MIT
// Writes a copy of a GGUF with new metadata and the same tensors, whose bytes are streamed from
// the source unchanged: a quantized model stays exactly as quantized (no decode, no re-quantizing).
import { createReadStream } from 'node:fs';
import { GGUF_ALIGNMENT } from './ggufTypes.js';
import type { GgufHeader, GgufMetadata } from './ggufTypes.js';
import { writeGguf, type WriteGgufResult } from './writeGguf.js';

/**
 * Copies the tensors of `sourcePath` (whose header is `header`) into `outPath` under `metadata`.
 * Tensor data is realigned to 32 bytes, the alignment the writer emits, so a source
 * `general.alignment` is dropped.
 */
export async function copyGgufWithMetadata(sourcePath: string, header: GgufHeader, metadata: GgufMetadata, outPath: string): Promise<WriteGgufResult> {
  const entries = [...metadata].filter(([key, value]) => key !== 'general.alignment' || (value.type === 'u32' && value.value === GGUF_ALIGNMENT));
  const tensors = header.tensors.map((tensor) => ({
    name: tensor.name,
    shape: [...tensor.ne].reverse(),
    type: tensor.type,
    chunks: () => {
      const start = header.dataOffset + tensor.offset;
      return createReadStream(sourcePath, { start, end: start + tensor.byteSize - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
    },
  }));
  return writeGguf(outPath, new Map(entries), tensors);
}
