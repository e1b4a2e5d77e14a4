// SPDX-License-Identifier: MIT
// Turning head logits into scores, as HF's text-classification pipeline does.

/** Numerically stable softmax. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sigmoid(logits: readonly number[]): number[] {
  return logits.map((x) => 1 / (1 + Math.exp(-x)));
}

/** HF `function_to_apply`. */
export function applyFunction(logits: readonly number[], fn: 'softmax' | 'sigmoid' | 'none'): number[] {
  if (fn === 'softmax') return softmax(logits);
  if (fn === 'sigmoid') return sigmoid(logits);
  return [...logits];
}

/** Every label with its score, best first (HF's pipeline and TEI sort the same way; ties keep label order); `topK` keeps the first ones. */
export function rankLabels(labels: readonly string[], scores: readonly number[], topK?: number | null): Array<{ label: string; score: number }> {
  const ranked = labels.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score);
  return topK == null ? ranked : ranked.slice(0, topK);
}
