// SPDX-License-Identifier: MIT
// What each benchmark contender reports, and the small statistics the report needs.

export interface ContenderResult {
  lines: number;
  tokens: number;
  /** Wall time of the classification work, model load excluded. */
  seconds: number;
  loadMs: number;
  /** Tokens actually decoded (logtriage: fewer with prefix sharing). */
  tokensDecoded?: number;
  /** logtriage: tokens whose KV cells came from the cross-call prefix cache. */
  tokensReused?: number;
  eventLoopP99Ms?: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  /** Peak resident set of the contender's process, from GNU time. */
  peakRssMiB?: number;
  /** llama-bench: the engine's prompt-processing rate. */
  engineTokensPerS?: number;
  /** logtriage: the thread count in use when the run ended (it moves with threads 'auto'). */
  threads?: number;
}

/** What every benchmark scenario is given by bench.ts: its machine, output and models. */
export interface ScenarioDeps {
  threads: number;
  outDir: string;
  command: string;
  machine: () => Promise<string>;
  log: (msg: string) => void;
  prepareModel: (name: string) => Promise<string>;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Sums the rounds of one contender: counts and times add, the rest take the worst or the median. */
export function combineRounds(rounds: readonly ContenderResult[]): ContenderResult {
  const sum = (f: (r: ContenderResult) => number | undefined) => rounds.reduce((n, r) => n + (f(r) ?? 0), 0);
  const max = (f: (r: ContenderResult) => number | undefined) => {
    const v = rounds.map(f).filter((x): x is number => x !== undefined);
    return v.length > 0 ? Math.max(...v) : undefined;
  };
  const median = (f: (r: ContenderResult) => number | undefined) => {
    const v = rounds.map(f).filter((x): x is number => x !== undefined);
    return v.length > 0 ? percentile(v, 50) : undefined;
  };
  const out: ContenderResult = {
    lines: sum((r) => r.lines),
    tokens: sum((r) => r.tokens),
    seconds: sum((r) => r.seconds),
    loadMs: median((r) => r.loadMs)!,
  };
  const optional: Array<[keyof ContenderResult, number | undefined]> = [
    ['tokensDecoded', rounds.some((r) => r.tokensDecoded !== undefined) ? sum((r) => r.tokensDecoded) : undefined],
    ['tokensReused', rounds.some((r) => r.tokensReused !== undefined) ? sum((r) => r.tokensReused) : undefined],
    ['eventLoopP99Ms', max((r) => r.eventLoopP99Ms)],
    ['latencyP50Ms', median((r) => r.latencyP50Ms)],
    ['latencyP99Ms', max((r) => r.latencyP99Ms)],
    ['peakRssMiB', max((r) => r.peakRssMiB)],
    ['engineTokensPerS', median((r) => r.engineTokensPerS)],
    ['threads', rounds.at(-1)?.threads],
  ];
  for (const [key, value] of optional) if (value !== undefined) (out as unknown as Record<string, number>)[key] = value;
  return out;
}
