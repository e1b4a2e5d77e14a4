// SPDX-License-Identifier: MIT
// What the template tier (open()'s templateTier) costs and saves on real logs: the same lines
// classified with the tier off and on (audit share as given), in chunks of 256 as `classify` does,
// each run in this process one after the other: lines/s, lines served by templates, audits and
// their agreement, templates retired, and how many lines got the label the model gives them
// without the tier. Model-dependent: a random-weight model (the test model) labels lines of one
// template differently, a trained classifier much less so.
//
//   npx tsx scripts/bench/templates/measureTier.ts --model test-artifacts/models/qwen2-tiny-f32.gguf [--lines 300] [--audit 0.05] [--threads 2]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LogClassifier, type ClassificationResult } from '../../../src/index.js';
import { loghubSystems, readLabeledSample } from './groundTruth.js';

async function classifyAll(clf: LogClassifier, lines: readonly string[]): Promise<{ results: ClassificationResult[]; seconds: number }> {
  const started = performance.now();
  const results: ClassificationResult[] = [];
  for (let i = 0; i < lines.length; i += 256) results.push(...(await clf.classifyMany(lines.slice(i, i + 256))));
  return { results, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, lines: { type: 'string', default: '300' }, audit: { type: 'string', default: '0.05' }, threads: { type: 'string', default: '2' } },
  });
  if (values.model === undefined) throw new Error('--model <file.gguf> is required');
  const dir = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'loghub');
  const perSystem = Number(values.lines);
  const lines: string[] = [];
  for (const system of loghubSystems(dir)) lines.push(...(await readLabeledSample(dir, system)).lines.filter((l) => l.trim().length > 0).slice(0, perSystem));
  const threads = Number(values.threads);
  const off = await LogClassifier.open(values.model, { threads });
  const plain = await classifyAll(off, lines).finally(() => off.dispose());
  const on = await LogClassifier.open(values.model, { threads, templateTier: { audit: Number(values.audit) } });
  const tiered = await classifyAll(on, lines);
  const stats = on.stats().templateTier!;
  await on.dispose();
  const sameLabel = tiered.results.filter((r, i) => r.label === plain.results[i]!.label).length;
  const servedSame = tiered.results.filter((r, i) => r.via === 'template' && r.label === plain.results[i]!.label).length;
  const row = {
    lines: lines.length,
    offLinesPerSecond: Number((lines.length / plain.seconds).toFixed(1)),
    onLinesPerSecond: Number((lines.length / tiered.seconds).toFixed(1)),
    servedByTemplate: stats.servedByTemplate,
    audits: stats.audits,
    auditAgreement: stats.auditAgreement,
    retired: stats.retired,
    templates: stats.templates,
    sameLabelAsWithoutTier: Number((sameLabel / lines.length).toFixed(4)),
    servedWithSameLabel: stats.servedByTemplate === 0 ? null : Number((servedSame / stats.servedByTemplate).toFixed(4)),
    model: values.model,
    date: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
