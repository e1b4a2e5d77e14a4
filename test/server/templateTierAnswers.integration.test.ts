// SPDX-License-Identifier: MIT
// With the template tier, /predict, POST / and /v1/classify say how each line was classified
// (`via`, `template_id`), as /ingest, the CLI and the worker do; with the tier off their answers
// have neither field. Expected values come from the library: a second classifier with the same
// tier options classifying the same lines in the same order routes them the same way (the tier is
// deterministic, and with audit 0 and no retirement routing does not depend on the model's labels).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import { tinyModel } from '../fixtures/index.js';
import { sampleLines } from './helpers.js';

const tier = { audit: 0, minAgreement: 0 };
let lines: string[];
/** The library's results for three successive calls on the same lines, tier on. */
let expected: ClassificationResult[][];
let on: LogClassifier;
let off: LogClassifier;

beforeAll(async () => {
  lines = sampleLines(20);
  const reference = await LogClassifier.open(tinyModel('f32'), { threads: 2, templateTier: tier });
  try {
    expected = [];
    for (let k = 0; k < 3; k++) expected.push(await reference.classifyMany(lines));
  } finally {
    await reference.dispose();
  }
  on = await LogClassifier.open(tinyModel('f32'), { threads: 2, templateTier: tier });
  off = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
});

afterAll(async () => {
  await on?.dispose();
  await off?.dispose();
});

const tierOf = (r: ClassificationResult) => ({ via: r.via, template_id: r.template!.id });

describe('via and template_id in /predict, POST / and /v1/classify', () => {
  it('the expected routing has lines of both kinds in the first call', () => {
    const vias = expected[0]!.map((r) => r.via);
    expect(vias.filter((v) => v === 'model').length).toBeGreaterThan(0);
    expect(vias.filter((v) => v === 'template').length).toBeGreaterThan(0);
    expect(expected[1]!.every((r) => r.via === 'template')).toBe(true);
  });

  it('tier on: every answer carries the line\'s via and template id', async () => {
    const app = createServer(on, { logLevel: 'silent' });
    try {
      // In the same order as the reference's calls: /v1/classify, then /predict, then POST /.
      const classify = await app.inject({ method: 'POST', url: '/v1/classify', payload: { input: lines } });
      expect(classify.statusCode).toBe(200);
      const items = classify.json().data as Array<{ via: string; template_id: string; label: string }>;
      expect(items).toHaveLength(lines.length);
      expect(items.map((d) => ({ via: d.via, template_id: d.template_id }))).toEqual(expected[0]!.map(tierOf));
      expect(items.map((d) => d.label)).toEqual(expected[0]!.map((r) => r.label));

      const predict = await app.inject({ method: 'POST', url: '/predict', payload: { inputs: lines } });
      expect(predict.statusCode).toBe(200);
      const lists = predict.json() as Array<Array<{ via: string; template_id: string }>>;
      expect(lists).toHaveLength(lines.length);
      // Every entry of an input's list carries its fields, as review and alert do.
      lists.forEach((list, i) => {
        expect(list.length).toBe(on.labels.length);
        for (const entry of list) expect({ via: entry.via, template_id: entry.template_id }).toEqual(tierOf(expected[1]![i]!));
      });

      const hf = await app.inject({ method: 'POST', url: '/', payload: { inputs: lines } });
      expect(hf.statusCode).toBe(200);
      const hfLists = hf.json() as Array<Array<{ via: string; template_id: string }>>;
      expect(hfLists).toHaveLength(lines.length);
      hfLists.forEach((list, i) => {
        for (const entry of list) expect({ via: entry.via, template_id: entry.template_id }).toEqual(tierOf(expected[2]![i]!));
      });
    } finally {
      await app.close();
    }
  });

  it('tier off: no answer has via or template_id', async () => {
    const app = createServer(off, { logLevel: 'silent' });
    try {
      const bodies = [
        await app.inject({ method: 'POST', url: '/v1/classify', payload: { input: lines } }),
        await app.inject({ method: 'POST', url: '/predict', payload: { inputs: lines } }),
        await app.inject({ method: 'POST', url: '/predict', payload: { inputs: lines[0] } }),
        await app.inject({ method: 'POST', url: '/', payload: { inputs: lines } }),
      ];
      for (const res of bodies) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toMatch(/"via"|"template_id"/);
      }
      const items = bodies[0]!.json().data as object[];
      expect(items).toHaveLength(lines.length);
      for (const item of items) expect(Object.keys(item).sort()).toEqual(['flags', 'index', 'label', 'review', 'score', 'scores', 'tokens', 'truncated']);
    } finally {
      await app.close();
    }
  });
});
