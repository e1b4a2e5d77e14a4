// SPDX-License-Identifier: MIT
// src/records/ecs.ts: every value is one ECS allows, labels map by name (not by position), and a label
// the table does not know is an ordinary event.
import { describe, expect, it } from 'vitest';
import { ecsDocument, toEcs } from '../../../src/records/ecs.js';
import { ECS_ALLOWED } from '../ecsAllowed.js';

function result(scores: Record<string, number>) {
  const [label, score] = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]!;
  return { label, score, scores, truncated: false, flags: [] as string[] };
}

function expectAllowed(fields: ReturnType<typeof toEcs>): void {
  expect(ECS_ALLOWED.kind).toContain(fields.event.kind);
  for (const c of fields.event.category ?? []) expect(ECS_ALLOWED.category).toContain(c);
  expect(fields.event.type.length).toBeGreaterThan(0);
  for (const t of fields.event.type) expect(ECS_ALLOWED.type).toContain(t);
  expect(fields.event.risk_score).toBeGreaterThanOrEqual(0);
  expect(fields.event.risk_score).toBeLessThanOrEqual(100);
}

describe('toEcs()', () => {
  it('maps by label name whatever the model’s label order, case-insensitively', () => {
    const orders = [
      ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'],
      ['error', 'MALICIOUS', 'normal', 'suspicious', 'informational'],
    ];
    for (const labels of orders) {
      const malicious = labels.find((l) => l.toLowerCase() === 'malicious')!;
      const scores = Object.fromEntries(labels.map((l) => [l, l === malicious ? 0.9 : 0.025]));
      const fields = toEcs(result(scores), labels);
      expectAllowed(fields);
      expect(fields.event.kind).toBe('alert');
      expect(fields.event.category).toEqual(['intrusion_detection']);
      expect(fields.logtriage).toEqual({ label: malicious, score: 0.9 });
      expect(fields.event.risk_score).toBeGreaterThan(90);
    }
  });

  it('gives errors event.type error and ordinary lines info, with no risk', () => {
    const labels = ['Normal', 'Error'];
    const error = toEcs(result({ Normal: 0.1, Error: 0.9 }), labels);
    expectAllowed(error);
    expect(error.event).toMatchObject({ kind: 'event', type: ['error'], risk_score: 0 });
    const normal = toEcs(result({ Normal: 0.9, Error: 0.1 }), labels);
    expect(normal.event).toMatchObject({ kind: 'event', type: ['info'], risk_score: 0 });
    expect(normal.event.category).toBeUndefined();
  });

  it('maps labels it does not know to a generic event', () => {
    const labels = ['benign', 'weird-thing', 'Ünknown'];
    for (const label of labels) {
      const fields = toEcs(result(Object.fromEntries(labels.map((l) => [l, l === label ? 0.8 : 0.1]))), labels);
      expectAllowed(fields);
      expect(fields.event).toMatchObject({ kind: 'event', type: ['info'], risk_score: 0 });
    }
  });

  it('maps labels named like Object.prototype members (constructor, __proto__, toString) to a generic event', () => {
    const labels = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Malicious'];
    let checked = 0;
    for (const label of labels.slice(0, 4)) {
      const scores = Object.fromEntries(labels.map((l) => [l, l === label ? 0.8 : 0.05]));
      const fields = toEcs({ label, score: 0.8, scores }, labels);
      expectAllowed(fields);
      expect(fields.event).toMatchObject({ kind: 'event', type: ['info'], risk_score: 5 });
      expect(fields.logtriage.label).toBe(label);
      checked++;
    }
    expect(checked).toBe(4);
  });
});

describe('ecsDocument()', () => {
  it('adds @timestamp, ecs.version, message, log.file.path and the line under logtriage', () => {
    const readAt = new Date('2026-01-02T03:04:05.678Z');
    const doc = ecsDocument({ ...result({ Normal: 0.7, Suspicious: 0.3 }), flags: ['invalid-utf8'] }, ['Normal', 'Suspicious'], { file: '/var/log/auth.log', line: 42, text: 'x', readAt }, { scores: true });
    expect(doc).toMatchObject({
      '@timestamp': readAt.toISOString(),
      ecs: { version: expect.stringMatching(/^8\.\d+\.\d+$/) },
      message: 'x',
      log: { file: { path: '/var/log/auth.log' } },
      event: { kind: 'event', created: readAt.toISOString() },
      logtriage: { label: 'Normal', score: 0.7, line: 42, scores: { Normal: 0.7, Suspicious: 0.3 }, flags: ['invalid-utf8'] },
    });
    const bare = ecsDocument(result({ Normal: 1 }), ['Normal'], { line: 1, readAt });
    expect(bare).not.toHaveProperty('message');
    expect(bare).not.toHaveProperty('log');
    expect(bare.logtriage).not.toHaveProperty('scores');
  });
});
