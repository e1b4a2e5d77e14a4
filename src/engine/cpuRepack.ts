// SPDX-License-Identifier: MIT
// Which weight types ggml's CPU backend copies into an interleaved ("repacked") layout at load
// (ggml/src/ggml-cpu/repack.cpp, ggml_repack_get_optimal_repack_type, in llama.cpp as pinned).
// With mmap, the file pages read for that copy stay resident beside the copy: a 1.5B Q4_0 model
// peaked at 1,922 MiB mapped against 1,204 MiB read (docs/benchmarks.md), so `useMmap: 'auto'`
// reads such models into memory instead. x64 needs AVX2 for these; without it nothing is
// repacked and reading only forgoes page-cache sharing between processes.
import type { GgufTensorInfo } from '../gguf/index.js';

const REPACKED_TYPES: Partial<Record<NodeJS.Architecture, readonly string[]>> = {
  x64: ['Q4_0', 'Q4_K', 'IQ4_NL', 'MXFP4'],
  arm64: ['Q4_0', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'MXFP4', 'Q8_0'],
};

/** True when the CPU backend on `arch` may repack some matrix of these tensors. */
export function cpuMayRepack(tensors: readonly GgufTensorInfo[], arch: NodeJS.Architecture = process.arch): boolean {
  const types = REPACKED_TYPES[arch] ?? [];
  // token_embd is read by row lookups, which need the file layout: it is never repacked.
  return tensors.some((t) => t.ne.length === 2 && t.name !== 'token_embd.weight' && types.includes(t.type.name));
}
