// SPDX-License-Identifier: MIT
// TemplateTier with a stand-in model (a function of the text): first lines go to the model, later
// ones take its result, audits at the configured rate (seeded, so reproducible), a template whose
// audits disagree is retired, lines waiting on a first line in flight, and a failing model call.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { TemplateTier } from '../../src/templates/TemplateTier.js';

interface Fake {
  label: string;
  text: string;
}

/** A model that labels a line by a rule, counting the lines it sees. */
function fakeModel(rule: (text: string) => string = () => 'Normal') {
  const seen: string[] = [];
  const run = async (texts: string[]): Promise<Fake[]> => {
    seen.push(...texts);
    await new Promise((r) => setImmediate(r));
    return texts.map((text) => ({ label: rule(text), text }));
  };
  return { seen, run };
}

const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `worker ${from + i} finished job ${(from + i) * 7} in ${i % 50} ms`);

describe('TemplateTier#classify()', () => {
  it("sends a template's first line to the model and serves the later ones from its result", async () => {
    const tier = new TemplateTier<Fake>({ audit: 0 });
    const model = fakeModel();
    const out = await tier.classify(lines(100), model.run);
    expect(model.seen).toEqual([lines(1)[0]]);
    expect(out.map((r) => r.route)).toEqual(['first', ...Array(99).fill('template')]);
    expect(new Set(out.map((r) => r.templateId)).size).toBe(1);
    expect(out[99]!.result).toBe(out[0]!.result);
    expect(tier.stats()).toMatchObject({ lines: 100, servedByTemplate: 99, audits: 0, auditAgreement: null, retired: 0, templates: 1 });
  });

  it('audits at the configured rate, the same lines for the same seed', async () => {
    const run = async (seed: number) => {
      const tier = new TemplateTier<Fake>({ audit: 0.1, seed });
      const model = fakeModel();
      const out = [];
      for (let from = 0; from < 4000; from += 500) out.push(...(await tier.classify(lines(500, from), model.run)));
      return { routes: out.map((r) => r.route), stats: tier.stats() };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.routes).toEqual(a.routes);
    expect(c.routes).not.toEqual(a.routes);
    // 3,999 draws at 0.1: mean 400, sd 19; four sd either way.
    expect(a.stats.audits).toBeGreaterThan(400 - 76);
    expect(a.stats.audits).toBeLessThan(400 + 76);
    expect(a.stats).toMatchObject({ lines: 4000, agreements: a.stats.audits, auditAgreement: 1, retired: 0, servedByTemplate: 3999 - a.stats.audits });
    expect(a.routes.filter((r) => r === 'audit').length).toBe(a.stats.audits);
  });

  it('retires a template whose audited lines disagree with its label, and sends its lines to the model from then on', async () => {
    const tier = new TemplateTier<Fake>({ audit: 0.5, minAudits: 3, minAgreement: 0.9, seed: 1 });
    // The first line says Normal; every later one, Error.
    const model = fakeModel((text) => (text.startsWith('worker 0 ') ? 'Normal' : 'Error'));
    const out = await tier.classify(lines(200), model.run);
    const stats = tier.stats();
    expect(stats.retired).toBe(1);
    expect(stats.retiredTemplates).toEqual([{ id: out[0]!.templateId, template: expect.stringContaining('worker <*> finished job'), label: 'Normal', audits: 3, agreements: 0 }]);
    const later = await tier.classify(lines(50, 500), model.run);
    expect(later.map((r) => r.route)).toEqual(Array(50).fill('retired'));
    expect(later.every((r) => r.result.label === 'Error')).toBe(true);
  });

  it('makes lines of a template whose first line is in flight wait for it, and sends them to the model if that call fails', async () => {
    const tier = new TemplateTier<Fake>({ audit: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async (texts: string[]) => {
      await gate;
      return texts.map((text) => ({ label: 'Normal', text }));
    };
    const first = tier.classify(lines(1), slow);
    const model = fakeModel();
    const second = tier.classify(lines(3, 1), model.run);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(b.map((r) => r.route)).toEqual(['template', 'template', 'template']);
    expect(b[0]!.result).toBe(a[0]!.result);
    expect(model.seen).toEqual([]);

    const tier2 = new TemplateTier<Fake>({ audit: 0 });
    let fail!: (err: Error) => void;
    const failing = tier2.classify(lines(1), () => new Promise<Fake[]>((_, reject) => (fail = reject)));
    const waiting = tier2.classify(lines(2, 1), model.run);
    fail(new Error('aborted'));
    await expect(failing).rejects.toThrow('aborted');
    expect((await waiting).map((r) => r.route)).toEqual(['first', 'first']);
    expect(model.seen).toHaveLength(2);
    // The template has a label now; its next line is served.
    expect((await tier2.classify(lines(1, 9), model.run))[0]!.route).toBe('template');
  });

  it('validates its options', () => {
    expect(() => new TemplateTier({ audit: 2 })).toThrow(ValidationError);
    expect(() => new TemplateTier({ audits: 0.1 } as never)).toThrow(/did you mean 'audit'/);
  });
});
