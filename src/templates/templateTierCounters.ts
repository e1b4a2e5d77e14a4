// SPDX-License-Identifier: MIT
// The template tier's Prometheus counters, one definition for the server's /metrics and the
// worker's: both read the classifier's stats() at scrape time, so the figures are the classifier's
// since open() (what `stats().templateTier` says), under the same names in both.
import { Counter, type Registry } from 'prom-client';
import type { TemplateTierStats } from './TemplateTier.js';

const COUNTERS: ReadonlyArray<[name: string, help: string, read: (t: TemplateTierStats) => number]> = [
  ['logtriage_template_tier_served_total', "Lines given their log template's result without the model", (t) => t.servedByTemplate],
  ['logtriage_template_tier_audits_total', "Lines the model classified to audit their template's label", (t) => t.audits],
  ['logtriage_template_tier_audit_agreements_total', "Audited lines that got their template's label", (t) => t.agreements],
  ['logtriage_template_tier_retired_total', 'Templates retired to per-line classification (their audits disagreed)', (t) => t.retired],
];

/**
 * Registers the tier's counters in `registry`. `readTier` is called at each scrape; it returns
 * undefined (or throws: a disposed classifier) to keep the last values.
 */
export function registerTemplateTierCounters(registry: Registry, readTier: () => TemplateTierStats | undefined): void {
  for (const [name, help, read] of COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        let tier: TemplateTierStats | undefined;
        try {
          tier = readTier();
        } catch {
          return;
        }
        if (tier === undefined) return;
        this.reset();
        this.inc(read(tier));
      },
    });
  }
}
