// SPDX-License-Identifier: MIT
// The engine's rate curve as an SVG (issue 26): ms per token against tokens per decode, one line
// per weight type. A decode's cost per token falls steeply from 1 to ~32 tokens, so this plot is
// what says how many tokens a one-line call should carry and which type it should use.
import { COLORS, escapeXml } from './report.js';

export interface RateSeries {
  name: string;
  points: Array<{ tokens: number; msPerToken: number }>;
}

export function renderRateSvg(title: string, series: readonly RateSeries[]): string {
  const all = series.flatMap((s) => s.points);
  const W = 720, H = 380, L = 60, R = 140, T = 30, B = 50;
  const xMax = Math.max(1, ...all.map((p) => Math.log2(p.tokens)));
  const yMax = Math.max(...all.map((p) => p.msPerToken), 1e-9) * 1.1;
  const x = (tokens: number) => L + (Math.log2(tokens) / xMax) * (W - L - R);
  const y = (ms: number) => H - B - (ms / yMax) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<text x="${L}" y="18" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">tokens per decode (log scale)</text>`,
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">ms per token</text>`,
  ];
  for (const tokens of [...new Set(all.map((p) => p.tokens))].sort((a, b) => a - b)) {
    parts.push(`<text x="${x(tokens)}" y="${H - B + 16}" text-anchor="middle">${tokens}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(2)}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a.tokens - b.tokens);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.tokens).toFixed(1)},${y(p.msPerToken).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${x(p.tokens).toFixed(1)}" cy="${y(p.msPerToken).toFixed(1)}" r="3.5" fill="${color}"/>`);
    parts.push(`<rect x="${W - R + 10}" y="${T + i * 18}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${W - R + 26}" y="${T + i * 18 + 9}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
