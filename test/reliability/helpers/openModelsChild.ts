// SPDX-License-Identifier: MIT
// Child process of openModelsInChildren(): opens each model file of the list (from index
// argv[3] on), classifies two lines and disposes it. Before each file it writes a start line to
// stdout, synchronously, so that a native crash can be pinned on the file that caused it.
import { readFileSync, writeSync } from 'node:fs';
import { LogClassifier, LogTriageError } from '../../../src/index.js';

const [listPath, startArg] = process.argv.slice(2);
const paths = JSON.parse(readFileSync(listPath!, 'utf8')) as string[];
const report = (line: object) => writeSync(1, `${JSON.stringify(line)}\n`);
const LINES = ['Jan 12 06:25:43 web01 sshd[2314]: Failed password for root from 10.0.0.7', 'kernel: <|endoftext|> Out of memory\n'];

for (let i = Number(startArg); i < paths.length; i++) {
  report({ i, phase: 'start' });
  try {
    // Default batching: a context_length below batchSize must not reach llama.cpp's n_seq_max assert.
    // verify: false: what is measured is the loader's own defence; the default digest check would
    // refuse the damaged-data variants first (that is test/classifier/verifyDefault.integration.test.ts).
    const clf = await LogClassifier.open(paths[i]!, { threads: 1, verify: false });
    try {
      const results = await clf.classifyMany(LINES);
      const finite = results.every((r) => r.logits.length === clf.labels.length && r.logits.every(Number.isFinite));
      report({ i, phase: 'done', outcome: 'ok', finite, message: results.map((r) => r.label).join(',') });
    } finally {
      await clf.dispose();
    }
  } catch (err) {
    const typed = err instanceof LogTriageError;
    report({ i, phase: 'done', outcome: typed ? err.name : `untyped ${(err as Error)?.name}`, message: String((err as Error)?.message ?? err).slice(0, 300) });
  }
}
