// SPDX-License-Identifier: MIT
// A bounded LRU of logits by exact token sequence: logs repeat whole lines, and a line already
// classified by this classifier needs no decode. Keyed by tokens (not text), so it holds only
// for the tokenizer settings of the classifier that owns it.

export interface ResultCacheStats {
  lookups: number;
  hits: number;
  size: number;
}

export class ResultCache {
  private readonly entries = new Map<string, Float32Array>();
  private lookups = 0;
  private hits = 0;

  constructor(private readonly capacity: number) {}

  get(tokens: Int32Array): Float32Array | undefined {
    if (this.capacity === 0) return undefined;
    this.lookups++;
    const key = keyOf(tokens);
    const logits = this.entries.get(key);
    if (logits === undefined) return undefined;
    this.hits++;
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, logits);
    return logits;
  }

  set(tokens: Int32Array, logits: Float32Array): void {
    if (this.capacity === 0) return;
    const key = keyOf(tokens);
    this.entries.delete(key);
    this.entries.set(key, logits);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  stats(): ResultCacheStats {
    return { lookups: this.lookups, hits: this.hits, size: this.entries.size };
  }
}

function keyOf(tokens: Int32Array): string {
  return Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength).toString('latin1');
}
