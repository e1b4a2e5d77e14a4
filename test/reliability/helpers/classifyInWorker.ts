// SPDX-License-Identifier: MIT
// worker_threads entry (see startClassifyWorker): opens the model given in workerData,
// classifies its lines and posts what it did at each step, so the parent can terminate it at a
// chosen moment: 'opening', 'opened', 'progress' (a first native batch came back), 'done',
// 'disposing', 'disposed'.
import { parentPort, workerData } from 'node:worker_threads';
import { LogClassifier } from '../../../src/index.js';

interface Job {
  model: string;
  lines: string[];
  dispose: boolean;
}

const { model, lines, dispose } = workerData as Job;
const post = (message: object) => parentPort!.postMessage(message);

post({ phase: 'opening' });
const clf = await LogClassifier.open(model, { threads: 1 });
post({ phase: 'opened' });
let reported = false;
const results = await clf.classifyMany(lines, {
  onProgress: () => {
    if (!reported) post({ phase: 'progress' });
    reported = true;
  },
});
post({ phase: 'done', logits: results.map((r) => r.logits) });
if (dispose) {
  post({ phase: 'disposing' });
  await clf.dispose();
  post({ phase: 'disposed' });
}
