// SPDX-License-Identifier: MIT
// /metrics has the template tier's counters when the classifier has the tier, and none without it
// (a stand-in classifier: createMetrics reads labels, info, stats(), onBatch and queuedLines).
import { describe, expect, it } from 'vitest';
import type { LogClassifier } from '../../src/LogClassifier.js';
import { createMetrics } from '../../src/server/metrics.js';

const stats = (templateTier?: object) => ({
  tokensIn: 0,
  tokensDecoded: 0,
  tokensReused: 0,
  decodes: 0,
  prefixCache: { budget: 0, cells: 0 },
  cache: { lookups: 0, hits: 0, size: 0 },
  threads: 1,
  ...(templateTier ? { templateTier } : {}),
});
const info = { labels: ['Normal', 'Error'], weightType: 'Q8_0', verification: { status: 'verified', by: 'hash', model: '0123456789ab' } };
const fake = (templateTier?: object) => ({ labels: ['Normal', 'Error'], info, stats: () => stats(templateTier), onBatch: () => () => {}, queuedLines: 0 }) as unknown as LogClassifier;

describe('server metrics with --template-tier', () => {
  it('reads the tier counters from stats() at scrape time', async () => {
    const text = await createMetrics(fake({ lines: 10, servedByTemplate: 7, audits: 2, agreements: 1, auditAgreement: 0.5, retired: 1, templates: 3, retiredTemplates: [] })).registry.metrics();
    expect(text).toMatch(/^logtriage_template_tier_served_total 7$/m);
    expect(text).toMatch(/^logtriage_template_tier_audits_total 2$/m);
    expect(text).toMatch(/^logtriage_template_tier_audit_agreements_total 1$/m);
    expect(text).toMatch(/^logtriage_template_tier_retired_total 1$/m);
  });

  it('has none of them without the tier', async () => {
    expect(await createMetrics(fake()).registry.metrics()).not.toContain('template_tier');
  });
});
