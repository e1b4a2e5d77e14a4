// SPDX-License-Identifier: MIT
// KV cells of the native context. It must hold the longest line (maxTokens) on its own, and a
// full decode (batchTokens) beside everything the prefix cache keeps: llama.cpp frees no cell
// a sequence holds, so a decode that found no free cells would fail with KV_SLOT.

/** Cells for llama.cpp's n_ctx; `prefixCacheCells` is 0 when the cache is off. */
export function sizeContext(maxTokens: number, batchTokens: number, prefixCacheCells: number): number {
  return Math.max(maxTokens, batchTokens + prefixCacheCells);
}
