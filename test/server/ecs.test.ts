// SPDX-License-Identifier: MIT
// toEcs(): labels onto ECS allowed values, and the risk score from the label probabilities.
import { describe, expect, it } from 'vitest';
import { toEcs } from '../../src/records/ecs.js';

const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
// ECS 8.x allowed values (ecs/schemas/event.yml).
const KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
const CATEGORIES = ['api', 'authentication', 'configuration', 'database', 'driver', 'email', 'file', 'host', 'iam', 'intrusion_detection', 'library', 'malware', 'network', 'package', 'process', 'registry', 'session', 'threat', 'vulnerability', 'web'];
// event.type values ECS expects with category intrusion_detection.
const INTRUSION_TYPES = ['allowed', 'denied', 'info'];
const TYPES = ['access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'end', 'error', 'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user'];

function result(label: string, probs: number[]) {
  const scores = Object.fromEntries(LABELS.map((l, i) => [l, probs[i]!]));
  return { label, score: scores[label]!, scores };
}

describe('toEcs()', () => {
  it.each([
    ['Malicious', [0.05, 0.1, 0.8, 0.03, 0.02], 'alert', ['intrusion_detection'], ['info'], 85],
    ['Suspicious', [0.2, 0.6, 0.1, 0.05, 0.05], 'alert', ['intrusion_detection'], ['info'], 40],
    ['Error', [0.1, 0, 0, 0.1, 0.8], 'event', undefined, ['error'], 0],
    ['Normal', [0.9, 0.04, 0.02, 0.02, 0.02], 'event', undefined, ['info'], 4],
    ['Informational', [0.1, 0, 0, 0.9, 0], 'event', undefined, ['info'], 0],
  ])('maps %s onto ECS allowed values', (label, probs, kind, category, type, risk) => {
    const ecs = toEcs(result(label, probs), LABELS);
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
