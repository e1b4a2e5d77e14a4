// SPDX-License-Identifier: MIT
// Turns a benchmark run into docs: a Markdown table per model, the ratios the performance
// targets are about, and an SVG of lines/s against lines per decode.
import type { ContenderResult } from './results.js';

export interface ContenderRow extends ContenderResult {
  name: string;
  /** Lines per decode, where it means something (plot x axis). */
  linesPerDecode?: number;
  linesPerS: number;
  tokensPerS: number;
}

/** The parity model converted to a type, against HF's logits (see parityAt in scripts/bench/bench.ts). */
export interface TypeParity {
  worstLogitDiff: number;
  labelsAgreeing: number;
  cases: number;
}

export interface ModelReport {
  name: string;
  /** Tensor type (f32, f16, q8_0, ...). */
  type: string;
  parity?: TypeParity;
  file: string;
  sizeMiB: number;
  contenders: ContenderRow[];
  ratios: Record<string, number>;
}

export interface BenchReport {
  date: string;
  command: string;
  machine: string;
  threads: number;
  sample: { lines: number; runLength: number; seed: number; meanTokens: number; p95Tokens: number; rounds: number };
  models: ModelReport[];
  prefixSavings: Record<string, number>;
  cacheHitRate: Record<string, number>;
  notes: string[];
}

/** The issue's memory target, 1.1 × GGUF file size + 150 MB, in MiB. */
export const rssBoundMiB = (fileMiB: number): number => 1.1 * fileMiB + 150e6 / 2 ** 20;

/** The highest peak RSS among a model's logtriage rows: what the memory bound is checked on. */
export const ourPeakRssMiB = (rows: readonly ContenderRow[]): number =>
  Math.max(0, ...rows.filter((r) => r.name.startsWith('logtriage')).map((r) => r.peakRssMiB ?? 0));

const fmt = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`Measured ${report.date} on ${report.machine}, ${report.threads} threads.`);
  out.push(`Command: \`${report.command}\``);
  out.push(
    `Input: ${report.sample.lines} time-ordered loghub lines, runs of ${report.sample.runLength} consecutive lines from each file in turn (seed ${report.sample.seed}), mean ${fmt(report.sample.meanTokens)} tokens, ` +
      `p95 ${fmt(report.sample.p95Tokens, 0)}; ${report.sample.rounds} interleaved round(s), each contender in its own process.`,
  );
  for (const model of report.models) {
    out.push('', `### ${model.name} (${fmt(model.sizeMiB, 0)} MiB)`, '');
    out.push('| contender | lines/s | tokens/s | p50 / p99 ms (1 line) | load s | peak RSS MiB | event-loop p99 ms | tokens decoded |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const c of model.contenders) {
      const decoded = c.tokensDecoded !== undefined ? `${fmt((100 * c.tokensDecoded) / c.tokens, 0)}%` : '–';
      const latency = c.latencyP50Ms !== undefined ? `${fmt(c.latencyP50Ms, 0)} / ${fmt(c.latencyP99Ms, 0)}` : '–';
      const tps = c.engineTokensPerS ?? c.tokensPerS;
      out.push(`| ${c.name} | ${c.lines > 0 ? fmt(c.linesPerS, 2) : '–'} | ${fmt(tps, 1)} | ${latency} | ${fmt(c.loadMs / 1000, 2)} | ${fmt(c.peakRssMiB, 0)} | ${fmt(c.eventLoopP99Ms, 1)} | ${decoded} |`);
    }
    const ratios = Object.entries(model.ratios);
    if (ratios.length > 0) {
      out.push('', ...ratios.map(([k, v]) => `- ${k}: **${fmt(v, 2)}×**`));
    }
  }
  const typed = report.models.filter((m) => m.parity);
  if (typed.length > 0) {
    out.push('', '### Which type', '');
    out.push('Speed and memory on the 1.5B-shaped model above; accuracy where HF logits exist: the parity model converted to the same type, every fixture case, against HF.', '');
    out.push('| type | file MiB | llama-bench pp512 tokens/s | logtriage batch 8 lines/s | logtriage peak RSS MiB (bound) | parity model: worst abs logit diff vs HF | labels equal to HF |');
    out.push('|---|---|---|---|---|---|---|');
    for (const m of typed) {
      const find = (name: string) => m.contenders.find((c) => c.name === name);
      const rss = ourPeakRssMiB(m.contenders);
      const p = m.parity!;
      out.push(`| ${m.type.toUpperCase()} | ${fmt(m.sizeMiB, 0)} | ${fmt(find('llama-bench pp512')?.engineTokensPerS)} | ${fmt(find('logtriage batch 8')?.linesPerS, 2)} | ` +
        `${fmt(rss, 0)} (${fmt(rssBoundMiB(m.sizeMiB), 0)}) | ${fmt(p.worstLogitDiff, 3)} | ${p.labelsAgreeing} / ${p.cases} |`);
    }
  }
  out.push('', '### Prefix sharing: tokens saved per loghub file (128 time-ordered lines, default batching)', '');
  out.push('| file | tokens saved | exact-repeat cache hit rate (all lines) |', '|---|---|---|');
  for (const [file, saved] of Object.entries(report.prefixSavings)) {
    out.push(`| ${file} | ${fmt(100 * saved, 0)}% | ${fmt(100 * (report.cacheHitRate[file] ?? NaN), 0)}% |`);
  }
  if (report.notes.length > 0) out.push('', ...report.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** lines/s against lines per decode (log2 x), one series per contender family. */
export function renderSvg(model: ModelReport): string {
  const points = model.contenders.filter((c) => c.linesPerDecode !== undefined && c.lines > 0);
  // A family is a contender name without its batch size: "logtriage", "logtriage, no prefix sharing", ...
  const familyOf = (name: string) => name.replace(/ batch \d+/, '').replace(/ -c \d+$/, '');
  const families = [...new Set(points.map((c) => familyOf(c.name)))];
  const W = 720, H = 360, L = 60, R = 250, T = 30, B = 50;
  const xs = points.map((p) => Math.log2(p.linesPerDecode!));
  const xMin = Math.min(0, ...xs), xMax = Math.max(1, ...xs);
  const yMax = Math.max(...points.map((p) => p.linesPerS), 1e-9) * 1.15;
  const x = (v: number) => L + ((Math.log2(v) - xMin) / (xMax - xMin)) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<text x="${L}" y="18" font-size="14">${escapeXml(model.name)}: lines/s by lines per decode</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">lines per decode (log scale)</text>`,
  ];
  for (let e = Math.ceil(xMin); e <= Math.floor(xMax); e++) {
    parts.push(`<text x="${x(2 ** e)}" y="${H - B + 16}" text-anchor="middle">${2 ** e}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(2)}</text>`);
  }
  families.forEach((family, i) => {
    const color = COLORS[i % COLORS.length]!;
    const series = points.filter((p) => familyOf(p.name) === family).sort((a, b) => a.linesPerDecode! - b.linesPerDecode!);
    if (series.length > 1) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${series.map((p) => `${x(p.linesPerDecode!)},${y(p.linesPerS)}`).join(' ')}"/>`);
    }
    for (const p of series) parts.push(`<circle cx="${x(p.linesPerDecode!)}" cy="${y(p.linesPerS)}" r="4" fill="${color}"/>`);
    parts.push(`<rect x="${W - R + 10}" y="${T + i * 18}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${W - R + 26}" y="${T + i * 18 + 9}">${escapeXml(family)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
