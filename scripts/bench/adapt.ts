// SPDX-License-Identifier: MIT
// How long `logtriage adapt` takes to fit a head, hidden states not counted (issue 25: 1,000
// lines of 1,536-wide states in under a second of CPU). The states are synthetic: per label a
// random centre, plus 16 shared latent factors mixed into every dimension (hidden states are
// strongly correlated: a low-rank part dominates their covariance, which is what slows L-BFGS),
// plus noise, with a few dimensions 100x larger as Qwen2's final-norm states have. It has the size
// and roughly the conditioning of the real thing without a 1.5B model's decode; real states may
// still need more iterations (the tiny parity model's loghub states took ~50 at 64 wide).
// Reports CPU time (user + system: what the fit costs, whatever else the machine runs) and wall
// time, per round, and the median; plus the same with a warm start from the fitted head.
//
//   npm run bench:adapt -- [--lines 1000] [--width 1536] [--labels 10] [--rounds 5] [--l2 0.01]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fitHead } from '../../src/adapt/fitHead.js';
import { DEFAULT_ADAPT_L2 } from '../../src/options.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000' },
    width: { type: 'string', default: '1536' },
    labels: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    l2: { type: 'string', default: String(DEFAULT_ADAPT_L2) },
  },
});
const n = Number(values.lines);
const d = Number(values.width);
const K = Number(values.labels);
const rounds = Number(values.rounds);
const l2 = Number(values.l2);

let state = 12345;
const random = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 4294967296;
};
const FACTORS = 16;
const centres = Array.from({ length: K }, () => Float32Array.from({ length: d }, () => random() * 2 - 1));
const mixing = Array.from({ length: FACTORS }, () => Float32Array.from({ length: d }, () => random() * 2 - 1));
const x = new Float32Array(n * d);
const gold: number[] = [];
for (let i = 0; i < n; i++) {
  const k = i % K;
  gold.push(k);
  const u = Array.from({ length: FACTORS }, () => 3 * (random() * 2 - 1));
  for (let j = 0; j < d; j++) {
    let v = centres[k]![j]! * 0.3 + (random() * 2 - 1);
    for (let f = 0; f < FACTORS; f++) v += u[f]! * mixing[f]![j]!;
    x[i * d + j] = v * (j < 4 ? 100 : 1);
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
function time(run: () => ReturnType<typeof fitHead>): { cpuMs: number; wallMs: number; iterations: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const fit = run();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start, iterations: fit.iterations };
}

process.stdout.write(`fitHead: ${n} lines x ${d} wide, ${K} labels, L2 ${l2}; ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]!.toFixed(2)}\n`);
const cold: ReturnType<typeof time>[] = [];
const warm: ReturnType<typeof time>[] = [];
const first = fitHead(x, gold, K, { l2 });
for (let r = 0; r < rounds; r++) {
  cold.push(time(() => fitHead(x, gold, K, { l2 })));
  warm.push(time(() => fitHead(x, gold, K, { l2, init: { weight: first.weight, bias: first.bias } })));
  process.stdout.write(`round ${r + 1}: cold ${cold[r]!.cpuMs.toFixed(0)} ms CPU (${cold[r]!.wallMs.toFixed(0)} ms wall, ${cold[r]!.iterations} iterations); warm ${warm[r]!.cpuMs.toFixed(0)} ms CPU (${warm[r]!.iterations} iterations)\n`);
}
const result = {
  lines: n,
  width: d,
  labels: K,
  l2,
  coldCpuMsMedian: median(cold.map((c) => c.cpuMs)),
  coldWallMsMedian: median(cold.map((c) => c.wallMs)),
  warmCpuMsMedian: median(warm.map((c) => c.cpuMs)),
  iterations: cold[0]!.iterations,
  loadAverage: loadavg()[0],
};
process.stdout.write(`${JSON.stringify(result)}\n`);
