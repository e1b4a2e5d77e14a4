// SPDX-License-Identifier: MIT
// The template-tier scenario (issue 27): a time-ordered stream of the ten shared loghub systems
// (runs of `run` consecutive lines, system after system, each system's lines in file order, so every
// system's log advances in time), classified with the tier off (the model per line) and on (default
// audit unless --audit), through three paths: the library (classifyMany in chunks of 256, as
// `classify` does, 2 chunks in flight unless --in-flight), `serve` (POST /v1/classify, 32 inputs a request, 4 requests in flight, in
// process through fastify's inject) and the JetStream worker (the stream pre-loaded in a real
// nats-server, the clock from the worker's start to the last result).
// On a slow model the tier-off rate is measured on a sample of the stream (--off-lines): windows of
// --off-window contiguous lines (default one full turn of the stream, every system's run once)
// spread evenly over it, so the sample's lines arrive as the stream's do, next to the lines they
// share prefixes with (single lines spread evenly, --off-window 1, cost more per line than the
// stream: see docs/templates.md). The tier-on rate is taken on the whole stream (--lines); both are
// said in the report. Runs go off, on, off (ABA) per path and the ratio is taken against the mean
// of the two off runs, so load drifting on a shared host biases it less. The result cache is off in
// every run (exact repeats are the tier's job here).
// Beside the times, each run reports what the model did, from stats() and onBatch (load-independent):
// lines it classified, tokens per such line before and after prefix reuse, decodes, tokens per
// decode and native calls. The cost of a model line is about its decoded tokens times the ms per
// token of its decode size (docs/performance.md "Rate curve"), so these explain the time per call.
//
//   npm run bench -- --scenario templates --models tiny                     # whole stream, all paths
//   npm run bench -- --scenario templates --models q8_0 --off-lines 48 --paths library
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { LogClassifier, type ClassificationResult, type OpenOptions, type TemplateTierOptions } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import { JetStreamWorker } from '../../src/worker/index.js';
import { startNatsServer } from '../../test/worker/natsServer.js';
import type { ScenarioDeps } from './results.js';

export const TEMPLATE_PATHS = ['library', 'serve', 'worker'] as const;
export type TemplatePath = (typeof TEMPLATE_PATHS)[number];

export type TemplateTierDeps = ScenarioDeps;

export interface TemplateTierArgs {
  models: readonly string[];
  files: readonly string[];
  /** Stream length; undefined: every non-blank line of the ten files. */
  lines?: number;
  runLength: number;
  /** Library path: chunks still classifying when the next is issued (classify's 2; 0: one at a time). */
  inFlight?: number;
  /** Tier-off sample size; undefined: the whole stream. */
  offLines?: number;
  /** Contiguous lines per window of the tier-off sample; undefined: runLength × files (one turn of the stream). */
  offWindow?: number;
  paths: readonly TemplatePath[];
  audit?: number;
  /**
   * The tier's minAgreement; 0 never retires a template. A random-weight model labels the lines of
   * one template nearly at random, so the tier rightly retires many; 0 shows what a model that
   * labels a template's lines alike would cost (the model is still called for firsts and audits).
   */
  minAgreement?: number;
}

/** Every non-blank line of each file, in runs of `runLength`, file after file, until all are used. */
export function timeOrderedStream(files: readonly string[], runLength: number): string[] {
  const all = files.map((f) => readFileSync(f, 'utf8').split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0));
  const next = all.map(() => 0);
  const out: string[] = [];
  for (let left = true; left; ) {
    left = false;
    all.forEach((lines, i) => {
      if (next[i]! >= lines.length) return;
      out.push(...lines.slice(next[i], next[i]! + runLength));
      next[i]! += runLength;
      left = true;
    });
  }
  return out;
}

/**
 * Indices of at least `count` lines of a `length`-line stream: ceil(count / window) windows of
 * `window` contiguous lines, spread evenly, each starting at a multiple of `window` (so with window
 * = run length × systems every window holds each system's run once). window 1: single lines spread evenly.
 */
export function windowSample(length: number, count: number, window: number): number[] {
  if (count >= length) return Array.from({ length }, (_, i) => i);
  const w = Math.max(1, Math.min(window, length));
  const windows = Math.min(Math.ceil(count / w), Math.floor(length / w));
  const out: number[] = [];
  for (let k = 0; k < windows; k++) {
    const start = Math.floor((k * length) / windows / w) * w;
    for (let i = start; i < start + w; i++) out.push(i);
  }
  return out;
}

/** What the model did during one run (differences of stats() and a count of onBatch calls). */
export interface ModelWork {
  /** Lines the model classified (tier off: every line; tier on: first lines, audits, retired templates' lines). */
  modelLines: number;
  tokensIn: number;
  tokensDecoded: number;
  tokensReused: number;
  decodes: number;
  nativeCalls: number;
  seconds: number;
}

/** Runs `runner` on `clf`, counting the model's work. */
async function counted(clf: LogClassifier, runner: Runner, lines: readonly string[]): Promise<Run & { work: ModelWork }> {
  const before = clf.stats();
  let nativeCalls = 0;
  const unsubscribe = clf.onBatch(() => nativeCalls++);
  let run: Run;
  try {
    run = await runner(clf, lines);
  } finally {
    unsubscribe();
  }
  const after = clf.stats();
  const tierBefore = before.templateTier;
  const tierAfter = after.templateTier;
  const modelLines =
    tierAfter === undefined ? lines.length : tierAfter.lines - tierAfter.servedByTemplate - ((tierBefore?.lines ?? 0) - (tierBefore?.servedByTemplate ?? 0));
  return {
    ...run,
    work: {
      modelLines,
      tokensIn: after.tokensIn - before.tokensIn,
      tokensDecoded: after.tokensDecoded - before.tokensDecoded,
      tokensReused: after.tokensReused - before.tokensReused,
      decodes: after.decodes - before.decodes,
      nativeCalls,
      seconds: run.seconds,
    },
  };
}

interface Run {
  seconds: number;
  results: ClassificationResult[];
}

type Runner = (clf: LogClassifier, lines: readonly string[]) => Promise<Run>;

async function timed(work: () => Promise<ClassificationResult[]>): Promise<Run> {
  const started = performance.now();
  const results = await work();
  return { results, seconds: (performance.now() - started) / 1000 };
}

/**
 * The library in chunks of 256 as `classify` sends them: a chunk is issued while up to `inFlight`
 * earlier ones are still classifying (src/cli/commands/classify.ts CHUNKS_IN_FLIGHT, 2), so the
 * queue can put lines of successive chunks in one native call; 0 awaits each chunk before the next.
 * Every ~minute `log` gets the rate so far (a slow model's run can take an hour).
 */
const libraryRunner = (log: (msg: string) => void, inFlight: number): Runner => (clf, lines) =>
  timed(async () => {
    const chunks: ClassificationResult[][] = [];
    const started = performance.now();
    let said = started;
    let done = 0;
    const pending: Promise<void>[] = [];
    for (let i = 0, c = 0; i < lines.length; i += 256, c++) {
      pending.push(
        clf.classifyMany(lines.slice(i, i + 256)).then((results) => {
          chunks[c] = results;
          done += results.length;
          if (performance.now() - said > 60_000) {
            said = performance.now();
            const tier = clf.stats().templateTier;
            const calls = tier ? ` ${((tier.lines - tier.servedByTemplate) / tier.lines).toFixed(3)} model calls per line,` : '';
            log(`  ${done}/${lines.length} lines, ${(done / ((said - started) / 1000)).toFixed(2)} lines/s,${calls} load ${loadavg()[0]!.toFixed(1)}`);
          }
        }),
      );
      while (pending.length > inFlight) await pending.shift();
    }
    await Promise.all(pending);
    return chunks.flat();
  });

/** serve: requests of 32 inputs, 4 in flight; results rebuilt from the label each item carries. */
const serveRunner: Runner = async (clf, lines) => {
  const app = createServer(clf, { logLevel: 'silent' });
  await app.ready();
  try {
    return await timed(async () => {
      const chunks: string[][] = [];
      for (let i = 0; i < lines.length; i += 32) chunks.push(lines.slice(i, i + 32));
      const out: ClassificationResult[][] = new Array(chunks.length);
      let next = 0;
      const client = async () => {
        for (let k = next++; k < chunks.length; k = next++) {
          const res = await app.inject({ method: 'POST', url: '/v1/classify', payload: { input: chunks[k] } });
          if (res.statusCode !== 200) throw new Error(`/v1/classify answered ${res.statusCode}: ${res.body}`);
          out[k] = (res.json() as { data: ClassificationResult[] }).data;
        }
      };
      await Promise.all([client(), client(), client(), client()]);
      return out.flat();
    });
  } finally {
    await app.close();
  }
};

/** worker: the stream pre-loaded, then one worker drains it; results in input order by source sequence. */
function workerRunner(natsUrl: () => string, subjectIndex: { n: number }): Runner {
  return async (clf, lines) => {
    const nc = await connect({ servers: natsUrl() });
    const js = jetstream(nc);
    const subject = `logs.raw.tier${subjectIndex.n++}`;
    try {
      // The worker creates the streams; a first start/stop makes them exist before publishing.
      await (await JetStreamWorker.start(clf, { servers: [natsUrl()] })).stop();
      const firstSeq = (await js.publish(subject, lines[0]!)).seq;
      for (let i = 1; i < lines.length; i += 500) await Promise.all(lines.slice(i, i + 500).map((l) => js.publish(subject, l)));
      const byOffset: ClassificationResult[] = new Array(lines.length);
      let seen = 0;
      const sub = nc.subscribe('logs.classified');
      const done = (async () => {
        for await (const m of sub) {
          const seq = Number(m.headers?.get('Logtriage-Source-Seq'));
          const offset = seq - firstSeq;
          if (offset < 0 || offset >= lines.length || byOffset[offset] !== undefined) continue;
          // A plain-text message comes back as `{ logtriage: { label, ... } }` (enrichRecord).
          byOffset[offset] = { label: m.json<{ logtriage: { label: string } }>().logtriage.label } as ClassificationResult;
          if (++seen >= lines.length) break;
        }
        sub.unsubscribe();
      })();
      let worker: JetStreamWorker | undefined;
      const run = await timed(async () => {
        worker = await JetStreamWorker.start(clf, { servers: [natsUrl()] });
        await done;
        return byOffset;
      });
      await worker?.stop();
      return run;
    } finally {
      await nc.close();
    }
  };
}

interface PathRow {
  path: TemplatePath;
  offLines: number;
  onLines: number;
  /** Tier off, before and after the tier-on run. */
  offLinesPerS: [number, number];
  onLinesPerS: number;
  ratio: number;
  modelCallsPerLine: number;
  servedByTemplate: number;
  audits: number;
  auditAgreement: number | null;
  retired: number;
  templates: number;
  /** Lines of the off sample whose tier-on label equals their tier-off label. */
  sameLabelOnSample: number;
  /** The model's work in each run: tier off before, tier on, tier off after. */
  work: { offBefore: ModelWork; on: ModelWork; offAfter: ModelWork };
  /**
   * The ratio the decoded tokens predict: decoded tokens per tier-off line over decoded tokens per
   * stream line with the tier on (both runs' model costing the same per decoded token).
   */
  predictedRatio: number;
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

async function measurePath(path: TemplatePath, runner: Runner, model: string, stream: string[], sample: string[], sampleIndex: number[], open: OpenOptions, tierOptions: TemplateTierOptions, log: (m: string) => void): Promise<PathRow> {
  const off = async (): Promise<Run & { work: ModelWork }> => {
    const clf = await LogClassifier.open(model, open);
    try {
      // Warm-up outside the clock, on a line not in the sample: a sample line would leave its tokens
      // in the prefix cache and make the timed run cheaper.
      await clf.classifyMany(['logtriage bench: warm-up line']);
      return await counted(clf, runner, sample);
    } finally {
      await clf.dispose();
    }
  };
  const load = () => `load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  log(`templates ${path}: tier off, ${sample.length} lines, ${load()}`);
  const off1 = await off();
  log(`templates ${path}: ${fmt(sample.length / off1.seconds)} lines/s; tier on, ${stream.length} lines, ${load()}`);
  const clf = await LogClassifier.open(model, { ...open, templateTier: tierOptions });
  let on: Run & { work: ModelWork };
  let tier;
  try {
    on = await counted(clf, runner, stream);
    tier = clf.stats().templateTier!;
  } finally {
    await clf.dispose();
  }
  log(`templates ${path}: ${fmt(stream.length / on.seconds)} lines/s; tier off again, ${sample.length} lines, ${load()}`);
  const off2 = await off();
  log(`templates ${path}: ${fmt(sample.length / off2.seconds)} lines/s, ${load()}`);
  const offRates: [number, number] = [sample.length / off1.seconds, sample.length / off2.seconds];
  const onRate = stream.length / on.seconds;
  const same = sampleIndex.filter((at, k) => on.results[at]!.label === off1.results[k]!.label).length;
  const offDecodedPerLine = (off1.work.tokensDecoded + off2.work.tokensDecoded) / (off1.work.modelLines + off2.work.modelLines);
  return {
    path,
    offLines: sample.length,
    onLines: stream.length,
    offLinesPerS: offRates,
    onLinesPerS: onRate,
    ratio: onRate / ((offRates[0] + offRates[1]) / 2),
    modelCallsPerLine: (tier.lines - tier.servedByTemplate) / tier.lines,
    servedByTemplate: tier.servedByTemplate,
    audits: tier.audits,
    auditAgreement: tier.auditAgreement,
    retired: tier.retired,
    templates: tier.templates,
    sameLabelOnSample: same / sample.length,
    work: { offBefore: off1.work, on: on.work, offAfter: off2.work },
    predictedRatio: offDecodedPerLine / (on.work.tokensDecoded / stream.length),
  };
}

/** One row of the model-work table. */
function workRow(path: TemplatePath, run: string, w: ModelWork): string {
  const per = (n: number) => fmt(n / w.modelLines, 1);
  return `| ${path} | ${run} | ${w.modelLines} | ${per(w.tokensIn)} | ${per(w.tokensReused)} | ${per(w.tokensIn - w.tokensDecoded - w.tokensReused)} | **${per(w.tokensDecoded)}** | ${w.decodes} | ${fmt(w.tokensDecoded / w.decodes, 1)} | ${w.nativeCalls} | ${fmt(w.modelLines / w.nativeCalls, 1)} | ${fmt(w.seconds / w.modelLines, 3)} | ${fmt((1000 * w.seconds) / w.tokensDecoded, 1)} |`;
}

export async function runTemplateTier(args: TemplateTierArgs, deps: TemplateTierDeps): Promise<string> {
  const whole = timeOrderedStream(args.files, args.runLength);
  const stream = args.lines === undefined ? whole : whole.slice(0, args.lines);
  const offWindow = args.offWindow ?? args.runLength * args.files.length;
  const sampleIndex = windowSample(stream.length, args.offLines ?? stream.length, offWindow);
  const sampleSize = sampleIndex.length;
  const sample = sampleIndex.map((i) => stream[i]!);
  const sampleSaid =
    sampleSize === stream.length
      ? 'the whole stream'
      : offWindow === 1
        ? `${sampleSize} single lines spread evenly over it`
        : `${sampleSize} lines: ${sampleSize / Math.min(offWindow, stream.length)} window(s) of ${Math.min(offWindow, stream.length)} contiguous lines spread evenly over it`;
  const open: OpenOptions = { threads: deps.threads, resultCache: 0 };
  const out: string[] = [];
  out.push(`Measured ${new Date().toISOString()} on ${await deps.machine()}, ${deps.threads} threads, result cache off.`);
  out.push(`Command: \`${deps.command}\``);
  out.push(`Stream: ${stream.length} lines of ${args.files.map((f) => basename(f, '.log').replace(/_2k$/, '')).join(', ')}, runs of ${args.runLength} consecutive lines, system after system, each system in file order. ` +
    `Library path: chunks of 256, ${args.inFlight ?? 2} in flight when the next is issued. Tier off on ${sampleSaid}; tier on (audit ${args.audit ?? 'default'}${args.minAgreement !== undefined ? `, minAgreement ${args.minAgreement}` : ''}) on the whole stream. Runs off, on, off per path; the ratio is on / mean(off).`);
  const rows: Record<string, PathRow[]> = {};
  let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    for (const name of args.models) {
      const model = await deps.prepareModel(name);
      rows[name] = [];
      for (const path of args.paths) {
        let runner: Runner;
        if (path === 'library') runner = libraryRunner(deps.log, args.inFlight ?? 2);
        else if (path === 'serve') runner = serveRunner;
        else {
          nats ??= await startNatsServer();
          const server = nats;
          runner = workerRunner(() => server.url, { n: 0 });
        }
        const tierOptions = { ...(args.audit !== undefined ? { audit: args.audit } : {}), ...(args.minAgreement !== undefined ? { minAgreement: args.minAgreement } : {}) };
        rows[name].push(await measurePath(path, runner, model, stream, sample, sampleIndex, open, tierOptions, deps.log));
      }
      out.push('', `### ${name === 'tiny' ? 'qwen2-tiny-public F32 (parity model)' : `Qwen2-1.5B-shaped ${name.toUpperCase()}`}`, '');
      out.push('| path | tier off lines/s (before / after) | tier on lines/s | on / off | model calls per line | served by templates | audits | audited agreement | retired | templates | same label as tier off (sample) |');
      out.push('|---|---|---|---|---|---|---|---|---|---|---|');
      for (const r of rows[name]) {
        out.push(`| ${r.path} | ${fmt(r.offLinesPerS[0])} / ${fmt(r.offLinesPerS[1])} | ${fmt(r.onLinesPerS)} | **${fmt(r.ratio, 1)}×** | ${fmt(r.modelCallsPerLine, 3)} | ${r.servedByTemplate} | ${r.audits} | ${fmt(r.auditAgreement, 3)} | ${r.retired} | ${r.templates} | ${fmt(r.sameLabelOnSample, 3)} |`);
      }
      out.push('', ...rows[name].map((r) => `- ${r.path}: ${fmt(r.ratio, 1)}× (target ≥ 10: ${r.ratio >= 10 ? 'met' : 'not met'}), ${fmt(r.modelCallsPerLine, 3)} model calls per line (target ≤ 0.1: ${r.modelCallsPerLine <= 0.1 ? 'met' : 'not met'}); decoded tokens predict ${fmt(r.predictedRatio, 1)}×`));
      out.push('', 'What the model did (load-independent but the last two columns): per line the model classified, tokens in, taken from the cross-call prefix cache, shared with another line of the same native call, and decoded; decodes and their mean size; native calls and lines per call; seconds per model line and ms per decoded token.', '');
      out.push('| path | run | model lines | tokens in / line | from prefix cache / line | shared in call / line | decoded / line | decodes | tokens / decode | native calls | lines / call | s / model line | ms / decoded token |');
      out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const r of rows[name]) {
        out.push(workRow(r.path, 'tier off (before)', r.work.offBefore), workRow(r.path, 'tier on', r.work.on), workRow(r.path, 'tier off (after)', r.work.offAfter));
      }
    }
  } finally {
    await nats?.dispose();
  }
  const markdown = `${out.join('\n')}\n`;
  writeFileSync(join(deps.outDir, 'templates.json'), `${JSON.stringify({ lines: stream.length, offLines: sampleSize, offWindow, inFlight: args.inFlight ?? 2, runLength: args.runLength, threads: deps.threads, models: rows }, null, 2)}\n`);
  writeFileSync(join(deps.outDir, 'templates.md'), markdown);
  return markdown;
}
