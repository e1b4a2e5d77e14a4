// SPDX-License-Identifier: MIT
// Child process of the worker_threads test: the addon in several worker_threads at once and in
// workers terminated at each step of their work (while loading, mid-batch, after the batch,
// while disposing), with the main thread classifying throughout. Prints one JSON report.
//
//   node --expose-gc --import tsx workerThreadsScenario.ts <model.gguf>
import { Worker } from 'node:worker_threads';
import { LogClassifier } from '../../../src/index.js';
import { collectGarbage, liveModels, rssMiB } from './nativeHeap.js';

const model = process.argv[2]!;
const entry = new URL('./classifyInWorker.ts', import.meta.url).href;
// Workers do not inherit the tsx loader that runs this script: register it first.
const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;

const lines = Array.from({ length: 120 }, (_, i) => `Jun 14 15:16:0${i % 10} combo sshd(pam_unix)[${19930 + i}]: authentication failure; rhost=10.0.${i}.1 user=root`);
/** Long enough that a worker terminated after its first native batch still has batches queued. */
const longJob = Array.from({ length: 10 }, () => lines).flat();

interface WorkerRun {
  label: string;
  exitCode: number;
  phases: string[];
  logits?: number[][];
  error?: string;
}

/** Runs one worker; `terminateAt` terminates it when it reports that phase ('online': as soon as it starts). */
function runWorker(label: string, job: string[], terminateAt?: string): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const run: WorkerRun = { label, exitCode: -1, phases: [] };
    const worker = new Worker(bootstrap, { eval: true, workerData: { model, lines: job, dispose: true } });
    const onPhase = (phase: string) => {
      run.phases.push(phase);
      if (phase === terminateAt) void worker.terminate();
    };
    worker.on('online', () => onPhase('online'));
    worker.on('message', (m: { phase: string; logits?: number[][] }) => {
      if (m.logits) run.logits = m.logits;
      onPhase(m.phase);
    });
    worker.on('error', (err) => (run.error = String(err)));
    worker.on('exit', (code) => {
      run.exitCode = code;
      resolve(run);
    });
  });
}

const main = await LogClassifier.open(model, { threads: 1 });
const reference = (await main.classifyMany(lines)).map((r) => r.logits);
const sameAsReference = (logits: number[][] | undefined, times = 1) =>
  logits !== undefined && logits.length === lines.length * times && logits.every((l, i) => l.every((x, j) => x === reference[i % lines.length]![j]));
const mismatches: string[] = [];
/** The main thread keeps classifying while workers come and go. */
async function mainThreadClassifies(label: string): Promise<void> {
  const logits = (await main.classifyMany(lines)).map((r) => r.logits);
  if (!sameAsReference(logits)) mismatches.push(`main thread during ${label}`);
}

// Three workers at once, next to the main thread.
const together = await Promise.all([0, 1, 2].map((i) => runWorker(`concurrent ${i}`, lines)));
await mainThreadClassifies('concurrent workers');
const rssWarmMiB = rssMiB();
for (const run of together) {
  if (run.exitCode !== 0 || !sameAsReference(run.logits)) mismatches.push(`${run.label}: exit ${run.exitCode}, phases ${run.phases.join(' ')} ${run.error ?? ''}`);
}

// Terminated at every step, twice each.
const terminated: WorkerRun[] = [];
for (let round = 0; round < 2; round++) {
  for (const at of ['online', 'opening', 'opened', 'progress', 'disposing']) {
    const job = at === 'progress' ? longJob : lines;
    const [run] = await Promise.all([runWorker(`terminated at ${at} (round ${round})`, job, at), mainThreadClassifies(`termination at ${at}`)]);
    terminated.push(run);
  }
}

// A worker started after all that still loads the addon and agrees with the main thread.
const after = await runWorker('after terminations', lines);
if (after.exitCode !== 0 || !sameAsReference(after.logits)) mismatches.push(`after terminations: exit ${after.exitCode} ${after.error ?? ''}`);
await mainThreadClassifies('the end');
await main.dispose();
await collectGarbage();

console.log(
  JSON.stringify({
    workers: together.length + terminated.length + 1,
    terminated: terminated.map((r) => ({ label: r.label, exitCode: r.exitCode, phases: r.phases, error: r.error })),
    mismatches,
    liveModelsAtEnd: liveModels(),
    rssWarmMiB,
    rssEndMiB: rssMiB(),
  }),
);
