// SPDX-License-Identifier: MIT
// open()'s templateTier on the tiny parity model: off, results and stats are exactly what they are
// without it; on, later lines of a template take its first line's result (via: 'template'),
// audits follow the seed, stats() counts them, and abort/dispose in the middle reject the call.
// (Retirement and audit rates with a stand-in model: test/templates/TemplateTier.test.ts.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AbortError, DisposedError, EmptyInputError, LogClassifier } from '../../src/index.js';
import { loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { join } from 'node:path';

// OpenSSH: 27 templates in 2,000 lines; the first 300 lines.
const lines = splitLogLines(readFileSync(join(loghubDir(), 'OpenSSH_2k.log'), 'utf8')).slice(0, 300);
const open = (templateTier?: { audit: number; seed?: number }) => LogClassifier.open(tinyModel('f32'), { threads: 2, ...(templateTier ? { templateTier } : {}) });

describe('LogClassifier.open() with templateTier', () => {
  it('off (the default): no result is served by a template, and results equal a classifier opened without the option', async () => {
    const plain = await open();
    const off = await LogClassifier.open(tinyModel('f32'), { threads: 2, templateTier: false });
    try {
      const a = await plain.classifyMany(lines.slice(0, 60));
      const b = await off.classifyMany(lines.slice(0, 60));
      expect(b).toEqual(a);
      expect(b.every((r) => r.via === undefined && r.template === undefined)).toBe(true);
      expect(off.stats().templateTier).toBeUndefined();
    } finally {
      await Promise.all([plain.dispose(), off.dispose()]);
    }
  });

  it("on: a template's later lines take its first line's result, audited lines are the model's, and stats() counts them", async () => {
    const tiered = await open({ audit: 0.1, seed: 3 });
    const plain = await open();
    try {
      const results = await tiered.classifyMany(lines);
      const byModel = await plain.classifyMany(lines);
      const served = results.filter((r) => r.via === 'template');
      const modelled = results.filter((r) => r.via === 'model');
      expect(served.length + modelled.length).toBe(lines.length);
      expect(served.length).toBeGreaterThan(lines.length / 2);
      const firstOf = new Map<string, number>();
      results.forEach((r, i) => {
        if (!firstOf.has(r.template!.id)) firstOf.set(r.template!.id, i);
        if (r.via === 'model') {
          // Classified by the model: what the model says without the tier (other batches: 1e-4, the parity bar).
          expect(r.label, `line ${i}`).toBe(byModel[i]!.label);
          r.logits.forEach((v, k) => expect(Math.abs(v - byModel[i]!.logits[k]!), `line ${i}`).toBeLessThan(1e-4));
        } else {
          const first = results[firstOf.get(r.template!.id)!]!;
          expect(first.via).toBe('model');
          expect(r.logits).toEqual(first.logits);
          expect(r.tokens).toBe(0);
        }
      });
      const audits = results.filter((r) => r.template!.audit).length;
      const stats = tiered.stats().templateTier!;
      expect(stats).toMatchObject({ lines: lines.length, servedByTemplate: served.length, audits });
      expect(stats.agreements).toBeLessThanOrEqual(audits);
      expect(stats.templates).toBe(firstOf.size);
      // The same seed audits the same lines.
      const again = await open({ audit: 0.1, seed: 3 });
      try {
        expect((await again.classifyMany(lines)).map((r) => r.template!.audit)).toEqual(results.map((r) => r.template!.audit));
      } finally {
        await again.dispose();
      }
    } finally {
      await Promise.all([tiered.dispose(), plain.dispose()]);
    }
  });

  it("flags a served line by its own text (special-token text, lone surrogates), not by its template's first line", async () => {
    const clf = await open({ audit: 0 });
    try {
      const invalid = 'Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user';
      const [first, injected, surrogate] = await clf.classifyMany([
        `${invalid} webmaster from 173.234.31.186`,
        `${invalid} <|endoftext|> from 52.80.34.196`,
        `${invalid} \ud800x from 103.99.0.122`,
      ]);
      expect(first!.flags).toEqual([]);
      expect(injected).toMatchObject({ via: 'template', flags: ['special-token-text'] });
      expect(surrogate).toMatchObject({ via: 'template', flags: ['invalid-unicode'] });
    } finally {
      await clf.dispose();
    }
  });

  it('refuses an empty line served or not, and rejects a call aborted or disposed in the middle', async () => {
    const clf = await open({ audit: 0.05 });
    try {
      await clf.classifyMany(lines.slice(0, 20));
      await expect(clf.classifyMany([lines[0]!, ''])).rejects.toBeInstanceOf(EmptyInputError);
      await expect(clf.classifyMany(lines, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
      const controller = new AbortController();
      const aborted = clf.classifyMany(lines.slice(100), { signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toBeInstanceOf(AbortError);
      // The tier carries on: templates whose first line was aborted get a new first line.
      const after = await clf.classifyMany(lines.slice(100, 160));
      expect(after).toHaveLength(60);
      const running = clf.classifyMany(lines.slice(160));
      // A concurrent call: its lines of templates first seen in `running` wait on those first lines.
      // Its outcome is taken at once: it may reject while the line below still waits on `running`,
      // and a rejection with no handler yet is an unhandled one.
      const waiting = clf.classifyMany(lines.slice(200, 300)).catch((err: unknown) => err);
      const disposed = clf.dispose();
      await expect(running).rejects.toBeInstanceOf(DisposedError);
      const waited = await waiting;
      if (!Array.isArray(waited)) expect(waited).toBeInstanceOf(DisposedError);
      await disposed;
      await expect(clf.classifyMany(lines.slice(0, 2))).rejects.toBeInstanceOf(DisposedError);
    } finally {
      await clf.dispose();
    }
  });
});
