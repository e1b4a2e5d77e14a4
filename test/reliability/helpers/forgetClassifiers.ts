// SPDX-License-Identifier: MIT
// Child process of the GC test: opens classifiers, uses them and drops them without dispose();
// garbage collection must free every one (JS objects, llama contexts and weights). Then
// disposes native models without any GC: their weights must go at once. Prints one JSON report.
//
//   node --expose-gc --import tsx forgetClassifiers.ts <model.gguf> <count>
import { loadBinding } from '../../../src/engine/binding.js';
import { LogClassifier } from '../../../src/index.js';
import { collectGarbage, liveModels, rssMiB } from './nativeHeap.js';

const [model, countArg] = process.argv.slice(2);
const count = Number(countArg);
const WARM_UP = 5;
/** Forgotten classifiers pile up between collections, as they would between GCs in an app. */
const COLLECT_EVERY = 5;

let collected = 0;
const registry = new FinalizationRegistry<number>(() => collected++);

async function openAndForget(i: number): Promise<string> {
  // Weights in malloc'ed memory rather than a file mapping, so a leak shows in RSS.
  const clf = await LogClassifier.open(model!, { threads: 1, useMmap: false });
  const { label } = await clf.classify(`forgotten classifier ${i}: ERROR connection reset by peer`);
  registry.register(clf, i);
  return label;
}

for (let i = 0; i < WARM_UP; i++) await openAndForget(i);
await collectGarbage();
const rssWarm = rssMiB();
const handlesWarm = process.getActiveResourcesInfo().length;
let peakLive = 0;
for (let i = WARM_UP; i < WARM_UP + count; i++) {
  await openAndForget(i);
  peakLive = Math.max(peakLive, liveModels());
  if ((i + 1) % COLLECT_EVERY === 0) await collectGarbage();
}
await collectGarbage();
const afterForgetting = { collected, opened: WARM_UP + count, peakLive, live: liveModels(), rssGrowthMiB: rssMiB() - rssWarm, handleGrowth: process.getActiveResourcesInfo().length - handlesWarm };

// Native models disposed explicitly, no GC: each dispose() frees the weights when it resolves.
const binding = loadBinding();
const liveAfterDispose: number[] = [];
for (let i = 0; i < 10; i++) {
  const m = await binding.Model.load(model!, { gpuLayers: 0, useMmap: false });
  await m.dispose();
  liveAfterDispose.push(liveModels());
}
console.log(JSON.stringify({ afterForgetting, liveAfterDispose }));
