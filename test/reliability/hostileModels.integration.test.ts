// SPDX-License-Identifier: MIT
// Hundreds of hostile variants of a valid tiny GGUF, opened (and used) in child processes: each
// must end in a typed error or a working model, and no process may crash or hang. Variants that
// llama.cpp would assert or crash on must be refused by our own validation first.
// LOGTRIAGE_FUZZ_SEED=<n> replays (or varies) the random truncations and flips.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModel } from '../fixtures/index.js';
import { shrinkTinyModel } from './helpers/ggufBytes.js';
import { modelVariants } from './helpers/modelVariants.js';
import { openModelsInChildren, type ModelOutcome } from './helpers/openModelsInChildren.js';
import { Prng, seedFromEnv } from './helpers/prng.js';

const seed = seedFromEnv('LOGTRIAGE_FUZZ_SEED', 20_260_107);
/** First ids kept from the 151,936-token vocabulary: byte tokens plus ~750 merged ones. */
const VOCAB_KEPT = 1000;

interface Case {
  name: string;
  formatError?: RegExp;
  poisonedWeights?: boolean;
  outcome: ModelOutcome;
}

describe(`LogClassifier.open() on hostile model files (seed ${seed})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'logtriage-hostile-models-'));
  const cases: Case[] = [];

  beforeAll(async () => {
    const base = await shrinkTinyModel(tinyModel('f32'), VOCAB_KEPT);
    const made: Array<Omit<Case, 'outcome'> & { path: string }> = [];
    modelVariants(base, new Prng(seed), ({ bytes, ...variant }) => {
      const path = join(dir, `${made.length}.gguf`);
      writeFileSync(path, bytes);
      made.push({ ...variant, path });
    });
    const outcomes = await openModelsInChildren(made.map((m) => m.path), dir);
    made.forEach(({ path: _path, ...variant }, i) => cases.push({ ...variant, outcome: outcomes[i]! }));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const describeCase = (c: Case) => `${c.name} → ${c.outcome.outcome}: ${c.outcome.message.slice(0, 300)}`;

  it('runs at least 200 variants, and the unmodified file classifies', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const valid = cases.find((c) => c.name === 'valid')!;
    expect(valid.outcome, describeCase(valid)).toMatchObject({ outcome: 'ok', finite: true });
  });

  it('never crashes or hangs the process that opens them', () => {
    const failures = cases.filter((c) => c.outcome.outcome === 'crash' || c.outcome.outcome === 'hang' || c.outcome.outcome === 'no-report');
    expect(failures.map(describeCase)).toEqual([]);
  });

  it('ends every variant in a typed error or a working model', () => {
    const typed = /^(ok|ModelFormatError|ModelLoadError|ValidationError|BackendError)$/;
    const untyped = cases.filter((c) => !typed.test(c.outcome.outcome));
    expect(untyped.map(describeCase)).toEqual([]);
    // Most variants are broken beyond use; some (a flipped token byte, weight noise) still work.
    const count = (outcome: string) => cases.filter((c) => c.outcome.outcome === outcome).length;
    expect(count('ModelFormatError')).toBeGreaterThan(cases.length / 2);
    expect(count('ok')).toBeGreaterThan(10);
  });

  it('refuses what llama.cpp would assert on with a ModelFormatError naming the defect', () => {
    const expected = cases.filter((c) => c.formatError);
    expect(expected.length).toBeGreaterThan(150);
    const wrong = expected.filter((c) => c.outcome.outcome !== 'ModelFormatError' || !c.formatError!.test(c.outcome.message));
    expect(wrong.map((c) => `${describeCase(c)} (expected ${c.formatError})`)).toEqual([]);
  });

  it('scores non-finite only where the weights themselves were randomized or poisoned', () => {
    const nonFinite = cases.filter((c) => c.outcome.outcome === 'ok' && !c.outcome.finite);
    expect(nonFinite.filter((c) => !c.poisonedWeights).map(describeCase)).toEqual([]);
  });
});
