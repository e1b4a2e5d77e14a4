// SPDX-License-Identifier: MIT
// src/records/ecs.ts: every value is one ECS allows, labels map by name (not by position), and a label
// the table does not know is an ordinary event.
import { describe, expect, it } from 'vitest';
import { ecsDocument, toEcs } from '../../src/records/ecs.js';
import { ECS_ALLOWED } from '../cli/ecsAllowed.js';

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

// The reference model's five labels: each onto ECS allowed values, and the risk score from the probabilities.
const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
// ECS 8.x allowed values (ecs/schemas/event.yml).
const KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
const CATEGORIES = ['api', 'authentication', 'configuration', 'database', 'driver', 'email', 'file', 'host', 'iam', 'intrusion_detection', 'library', 'malware', 'network', 'package', 'process', 'registry', 'session', 'threat', 'vulnerability', 'web'];
// event.type values ECS expects with category intrusion_detection.
const INTRUSION_TYPES = ['allowed', 'denied', 'info'];
const TYPES = ['access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'end', 'error', 'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user'];

function riskResult(label: string, probs: number[]) {
  const scores = Object.fromEntries(LABELS.map((l, i) => [l, probs[i]!]));
  return { label, score: scores[label]!, scores };
}

describe('toEcs() risk score and allowed values', () => {
  it.each([
    ['Malicious', [0.05, 0.1, 0.8, 0.03, 0.02], 'alert', ['intrusion_detection'], ['info'], 85],
    ['Suspicious', [0.2, 0.6, 0.1, 0.05, 0.05], 'alert', ['intrusion_detection'], ['info'], 40],
    ['Error', [0.1, 0, 0, 0.1, 0.8], 'event', undefined, ['error'], 0],
    ['Normal', [0.9, 0.04, 0.02, 0.02, 0.02], 'event', undefined, ['info'], 4],
    ['Informational', [0.1, 0, 0, 0.9, 0], 'event', undefined, ['info'], 0],
  ])('maps %s onto ECS allowed values', (label, probs, kind, category, type, risk) => {
    const ecs = toEcs(riskResult(label, probs), LABELS);
    expect(ecs.event.kind).toBe(kind);
    expect(ecs.event.category).toEqual(category);
    expect(ecs.event.type).toEqual(type);
    expect(ecs.event.risk_score).toBeCloseTo(risk, 6);
    expect(KINDS).toContain(ecs.event.kind);
    for (const c of ecs.event.category ?? []) expect(CATEGORIES).toContain(c);
    for (const t of ecs.event.type) expect(ecs.event.category ? INTRUSION_TYPES : TYPES).toContain(t);
    expect(ecs.logtriage).toEqual({ label, score: probs[LABELS.indexOf(label)] });
  });

  it('treats an unknown label as an ordinary event and matches names case-insensitively', () => {
    const labels = ['benign', 'MALICIOUS', 'audit'];
    const scores = { benign: 0.3, MALICIOUS: 0.6, audit: 0.1 };
    expect(toEcs({ label: 'audit', score: 0.1, scores }, labels).event).toEqual({ kind: 'event', type: ['info'], risk_score: 60 });
    expect(toEcs({ label: 'MALICIOUS', score: 0.6, scores }, labels).event.kind).toBe('alert');
  });
});
