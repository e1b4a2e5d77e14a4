// SPDX-License-Identifier: MIT
// The part of the `eval --report` page about how far the scores can be trusted: calibration
// figures, a reliability diagram (accuracy against mean confidence per confidence bin, with the
// lines per bin as bars below), accuracy against coverage as the review threshold rises, and the
// alert thresholds found for --target-precision. Inline SVG only, like the rest of the page.
import type { CalibrationMetrics } from '../calibration/calibrationMetrics.js';
import type { CoveragePoint, ThresholdFit } from '../calibration/selectiveClassification.js';
import { escapeHtml, fixed } from './htmlText.js';

export interface TrustInput {
  calibration: CalibrationMetrics;
  /** The calibration the scores went through, in words. */
  applied: string;
  /** Coverage table rows. */
  selective: readonly CoveragePoint[];
  /** Every distinct threshold, for the curve. */
  curve: readonly CoveragePoint[];
  fits: readonly ThresholdFit[];
}

const PLOT = 300;
const LEFT = 50;
const TOP = 14;

function axes(xTitle: string, yTitle: string, height: number): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => {
      const x = LEFT + t * PLOT;
      const y = TOP + (1 - t) * PLOT;
      return `<text x="${x}" y="${TOP + PLOT + 16}" text-anchor="middle">${t}</text><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${t}</text>`;
    })
    .join('');
  return (
    `<rect x="${LEFT}" y="${TOP}" width="${PLOT}" height="${PLOT}" fill="none" stroke="#8c959f"/>${ticks}` +
    `<text class="axis-title" x="${LEFT + PLOT / 2}" y="${height - 4}" text-anchor="middle">${xTitle}</text>` +
    `<text class="axis-title" x="12" y="${TOP + PLOT / 2}" text-anchor="middle" transform="rotate(-90 12 ${TOP + PLOT / 2})">${yTitle}</text>`
  );
}

function reliabilityDiagram(m: CalibrationMetrics): string {
  const countsTop = TOP + PLOT + 30;
  const countsHeight = 60;
  const height = countsTop + countsHeight + 34;
  const binWidth = PLOT / m.bins.length;
  const most = Math.max(1, ...m.bins.map((b) => b.count));
  const bars = m.bins
    .map((b, i) => {
      const x = LEFT + i * binWidth;
      const title = `<title>${fixed(b.lower)}–${fixed(b.upper)}: ${b.count} lines, confidence ${fixed(b.confidence)}, accuracy ${fixed(b.accuracy)}</title>`;
      const accuracyBar =
        b.count === 0 ? '' : `<rect class="reliability-bar" x="${x + 1}" y="${TOP + (1 - b.accuracy) * PLOT}" width="${binWidth - 2}" height="${b.accuracy * PLOT}" fill="#4c78a8" data-accuracy="${b.accuracy}" data-confidence="${b.confidence}" data-count="${b.count}">${title}</rect>`;
      const countHeight = (b.count / most) * countsHeight;
      return `${accuracyBar}<rect class="count-bar" x="${x + 1}" y="${countsTop + countsHeight - countHeight}" width="${binWidth - 2}" height="${countHeight}" fill="#8c959f" data-count="${b.count}">${title}</rect>`;
    })
    .join('');
  return (
    `<svg id="reliability-diagram" role="img" aria-label="Reliability diagram" width="${LEFT + PLOT + 20}" height="${height}" viewBox="0 0 ${LEFT + PLOT + 20} ${height}">` +
    axes('Confidence (top score)', 'Accuracy', height) +
    bars +
    `<line x1="${LEFT}" y1="${TOP + PLOT}" x2="${LEFT + PLOT}" y2="${TOP}" stroke="#f58518" stroke-dasharray="4 3"><title>perfect calibration</title></line>` +
    `<text x="${LEFT + 4}" y="${countsTop - 2}">lines per bin (max ${most})</text>` +
    `</svg>`
  );
}

function coverageSvg(curve: readonly CoveragePoint[]): string {
  const height = TOP + PLOT + 40;
  const points = curve.map((p) => `${(LEFT + p.coverage * PLOT).toFixed(1)},${(TOP + (1 - (p.accuracy ?? 0)) * PLOT).toFixed(1)}`).join(' ');
  return (
    `<svg id="coverage-curve" role="img" aria-label="Accuracy against coverage" width="${LEFT + PLOT + 20}" height="${height}" viewBox="0 0 ${LEFT + PLOT + 20} ${height}">` +
    axes('Coverage (share not sent to review)', 'Accuracy of the rest', height) +
    `<polyline fill="none" stroke="#4c78a8" stroke-width="2" points="${points}" data-points="${curve.length}"/>` +
    `</svg>`
  );
}

function coverageTable(points: readonly CoveragePoint[]): string {
  const rows = points.map(
    (p) => `<tr class="coverage-row"><td>${fixed(p.threshold)}</td><td>${fixed(p.coverage)}</td><td>${p.covered}</td><td>${p.accuracy === null ? '–' : fixed(p.accuracy)}</td></tr>`,
  );
  return `<table class="numbers" id="coverage-table"><thead><tr><th>review below</th><th>coverage</th><th>lines</th><th>accuracy</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function fitsTable(fits: readonly ThresholdFit[]): string {
  if (fits.length === 0) return '';
  const rows = fits.map((f) =>
    f.threshold === null
      ? `<tr class="fit-row" data-label="${escapeHtml(f.label)}"><th scope="row">${escapeHtml(f.label)}</th><td>${fixed(f.target)}</td><td colspan="4">unreachable (best precision ${fixed(f.precision)})</td></tr>`
      : `<tr class="fit-row" data-label="${escapeHtml(f.label)}"><th scope="row">${escapeHtml(f.label)}</th><td>${fixed(f.target)}</td><td>${fixed(f.threshold)}</td><td>${fixed(f.precision)}</td><td>${fixed(f.recall)}</td><td>${f.alerts}</td></tr>`,
  );
  return (
    `<h2>Alert thresholds for target precision <span class="note">(alert: top label with score ≥ threshold)</span></h2>` +
    `<table class="numbers" id="threshold-fits"><thead><tr><th>label</th><th>target</th><th>threshold</th><th>precision</th><th>recall</th><th>alerts</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

export function renderTrustSection(trust: TrustInput): string {
  const m = trust.calibration;
  const card = (name: string, value: string) => `<div class="card"><div class="value">${value}</div><div class="name">${name}</div></div>`;
  return (
    `<h2>Calibration <span class="note">(scores: ${escapeHtml(trust.applied)})</span></h2>` +
    `<div class="cards" id="calibration-cards">${card('NLL', m.nll.toFixed(4))}${card('Brier', m.brier.toFixed(4))}${card(`ECE (${m.bins.length} bins)`, m.ece.toFixed(4))}</div>` +
    `<div class="charts"><section><h2>Reliability diagram</h2>${reliabilityDiagram(m)}</section>` +
    `<section><h2>Accuracy and coverage as the review threshold rises</h2>${coverageSvg(trust.curve)}${coverageTable(trust.selective)}</section></div>` +
    fitsTable(trust.fits)
  );
}
