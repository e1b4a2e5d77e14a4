// SPDX-License-Identifier: MIT
// Grouping accuracy (the LogPAI benchmark's metric) of TemplateParser on the raw lines of every
// shared Loghub sample, read with the library's line reader (the counts must match the ground
// truth's rows): at least the floor measured by scripts/bench/templates/measureGrouping.ts
// (docs/templates.md), and above plain Drain run the same way on the same lines, per system.
import { beforeAll, describe, expect, it } from 'vitest';
import { groupingAccuracy, loghubSystems, readLabeledSample, type LabeledSample } from '../../scripts/bench/templates/groundTruth.js';
import { parseWithOurs, parseWithPlainDrain } from '../../scripts/bench/templates/measureGrouping.js';
import { loghubDir } from '../fixtures/index.js';

/** docs/templates.md's figures, rounded down to two places. */
const FLOORS: Record<string, number> = {
  Apache: 1.0,
  BGL: 0.98,
  HDFS: 1.0,
  HPC: 0.95,
  Hadoop: 0.97,
  HealthApp: 1.0,
  Linux: 0.69,
  OpenSSH: 0.92,
  Proxifier: 1.0,
  Zookeeper: 0.98,
};

/** Drain's published average over its 16 systems (Zhu et al. 2019). */
const DRAIN_PUBLISHED_AVERAGE = 0.865;

describe('TemplateParser on the shared Loghub samples', () => {
  const samples: LabeledSample[] = [];
  const ours = new Map<string, number>();

  beforeAll(async () => {
    const dir = loghubDir();
    // readLabeledSample throws when a sample's line count differs from its ground truth's rows.
    for (const system of loghubSystems(dir)) samples.push(await readLabeledSample(dir, system));
  });

  it('reads all ten samples, each line matching a row of its ground truth', () => {
    expect(samples.map((s) => s.system)).toEqual(Object.keys(FLOORS));
    for (const s of samples) expect(s.lines.length, s.system).toBe(2000);
  });

  it.each(Object.keys(FLOORS))('%s: at least its floor, and above plain Drain', (system) => {
    const sample = samples.find((s) => s.system === system);
    expect(sample, `${system} read`).toBeDefined();
    const accuracy = groupingAccuracy(sample!.truth, parseWithOurs(sample!).ids);
    const plain = groupingAccuracy(sample!.truth, parseWithPlainDrain(sample!).keys);
    ours.set(system, accuracy);
    expect(accuracy).toBeGreaterThanOrEqual(FLOORS[system]!);
    expect(accuracy).toBeGreaterThan(plain);
  });

  it("averages at least Drain's published average", () => {
    const accuracies = samples.map((s) => ours.get(s.system) ?? groupingAccuracy(s.truth, parseWithOurs(s).ids));
    expect(accuracies.length).toBe(10);
    const average = accuracies.reduce((a, b) => a + b, 0) / ours.size;
    expect(average).toBeGreaterThanOrEqual(DRAIN_PUBLISHED_AVERAGE);
  });
});
