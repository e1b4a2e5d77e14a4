// SPDX-License-Identifier: MIT
// The template-tier scenario (issue 27): a time-ordered stream of the ten shared loghub systems
// (runs of `run` consecutive lines, system after system, each system's lines in file order, so every
// system's log advances in time), classified with the tier off (the model per line) and on (default
// audit unless --audit), through three paths: the library (classifyMany in chunks of 256, as
// `classify` does), `serve` (POST /v1/classify, 32 inputs a request, 4 requests in flight, in
// process through fastify's inject) and the JetStream worker (the stream pre-loaded in a real
// nats-server, the clock from the worker's start to the last result).
// With the tier off the model costs the same per line wherever the line is, so on a slow model the
// tier-off rate is measured on an evenly spaced sample of the stream (--off-lines), the tier-on rate
// on the whole stream (--lines); both are said in the report. Runs go off, on, off (ABA) per path and
// the ratio is taken against the mean of the two off runs, so load drifting on a shared host biases
// it less. The result cache is off in every run (exact repeats are the tier's job here).
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

export const TEMPLATE_PATHS = ['library', 'serve', 'worker'] as const;
export type TemplatePath = (typeof TEMPLATE_PATHS)[number];

export interface TemplateTierDeps {
  threads: number;
  outDir: string;
  command: string;
  machine: () => Promise<string>;
  log: (msg: string) => void;
  prepareModel: (name: string) => Promise<string>;
}

export interface TemplateTierArgs {
  models: readonly string[];
  files: readonly string[];
  /** Stream length; undefined: every non-blank line of the ten files. */
  lines?: number;
  runLength: number;
  /** Tier-off sample size; undefined: the whole stream. */
  offLines?: number;
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

/** `count` lines spread evenly over `lines`. */
export function evenSample(lines: readonly string[], count: number): string[] {
  if (count >= lines.length) return [...lines];
  return Array.from({ length: count }, (_, i) => lines[Math.floor((i * lines.length) / count)]!);
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

/** The library in chunks of 256; every ~minute `log` gets the rate so far (a slow model's run can take an hour). */
const libraryRunner = (log: (msg: string) => void): Runner => (clf, lines) =>
  timed(async () => {
    const out: ClassificationResult[] = [];
    const started = performance.now();
    let said = started;
    for (let i = 0; i < lines.length; i += 256) {
      out.push(...(await clf.classifyMany(lines.slice(i, i + 256))));
      if (performance.now() - said > 60_000) {
        said = performance.now();
        const tier = clf.stats().templateTier;
        const calls = tier ? ` ${((tier.lines - tier.servedByTemplate) / tier.lines).toFixed(3)} model calls per line,` : '';
        log(`  ${out.length}/${lines.length} lines, ${(out.length / ((said - started) / 1000)).toFixed(2)} lines/s,${calls} load ${loadavg()[0]!.toFixed(1)}`);
      }
    }
    return out;
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
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

async function measurePath(path: TemplatePath, runner: Runner, model: string, stream: string[], sample: string[], sampleIndex: number[], open: OpenOptions, tierOptions: TemplateTierOptions, log: (m: string) => void): Promise<PathRow> {
  const off = async (): Promise<Run> => {
    const clf = await LogClassifier.open(model, open);
    try {
      // Warm-up outside the clock, on a line not in the sample: a sample line would leave its tokens
      // in the prefix cache and make the timed run cheaper.
      await clf.classifyMany(['logtriage bench: warm-up line']);
      return await runner(clf, sample);
    } finally {
      await clf.dispose();
    }
  };
  const load = () => `load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  log(`templates ${path}: tier off, ${sample.length} lines, ${load()}`);
  const off1 = await off();
  log(`templates ${path}: ${fmt(sample.length / off1.seconds)} lines/s; tier on, ${stream.length} lines, ${load()}`);
  const clf = await LogClassifier.open(model, { ...open, templateTier: tierOptions });
  let on: Run;
  let tier;
  try {
    on = await runner(clf, stream);
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
  };
}

export async function runTemplateTier(args: TemplateTierArgs, deps: TemplateTierDeps): Promise<string> {
  const whole = timeOrderedStream(args.files, args.runLength);
  const stream = args.lines === undefined ? whole : whole.slice(0, args.lines);
  const sampleSize = Math.min(args.offLines ?? stream.length, stream.length);
  const sampleIndex = Array.from({ length: sampleSize }, (_, i) => Math.floor((i * stream.length) / sampleSize));
  const sample = sampleIndex.map((i) => stream[i]!);
  const open: OpenOptions = { threads: deps.threads, resultCache: 0 };
  const out: string[] = [];
  out.push(`Measured ${new Date().toISOString()} on ${await deps.machine()}, ${deps.threads} threads, result cache off.`);
  out.push(`Command: \`${deps.command}\``);
  out.push(`Stream: ${stream.length} lines of ${args.files.map((f) => basename(f, '.log').replace(/_2k$/, '')).join(', ')}, runs of ${args.runLength} consecutive lines, system after system, each system in file order. ` +
    `Tier off on ${sampleSize === stream.length ? 'the whole stream' : `${sampleSize} lines spread evenly over it`}; tier on (audit ${args.audit ?? 'default'}${args.minAgreement !== undefined ? `, minAgreement ${args.minAgreement}` : ''}) on the whole stream. Runs off, on, off per path; the ratio is on / mean(off).`);
  const rows: Record<string, PathRow[]> = {};
  let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    for (const name of args.models) {
      const model = await deps.prepareModel(name);
      rows[name] = [];
      for (const path of args.paths) {
        let runner: Runner;
        if (path === 'library') runner = libraryRunner(deps.log);
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
      out.push('', ...rows[name].map((r) => `- ${r.path}: ${fmt(r.ratio, 1)}× (target ≥ 10: ${r.ratio >= 10 ? 'met' : 'not met'}), ${fmt(r.modelCallsPerLine, 3)} model calls per line (target ≤ 0.1: ${r.modelCallsPerLine <= 0.1 ? 'met' : 'not met'})`));
    }
  } finally {
    await nats?.dispose();
  }
  const markdown = `${out.join('\n')}\n`;
  writeFileSync(join(deps.outDir, 'templates.json'), `${JSON.stringify({ lines: stream.length, offLines: sampleSize, runLength: args.runLength, threads: deps.threads, models: rows }, null, 2)}\n`);
  writeFileSync(join(deps.outDir, 'templates.md'), markdown);
  return markdown;
}
