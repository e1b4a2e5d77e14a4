// SPDX-License-Identifier: MIT
// Child of ingestRecords.memory.test.ts: reads a 2 MB JSON array of `{}` records the way /ingest
// reads it now (`sliced`: element by element) or did (`whole`: one JSON.parse, then judged), and
// prints the peak growth of the V8 heap over the text alone, sampled at every turn of the event
// loop and with the parsed body held. Run with --expose-gc and a small young generation, so that
// garbage not yet collected does not count as held.
import { parseJsonBody, readIngestItems, readJsonBody } from '../../src/server/ingestRecords.js';

const mode = process.argv[2] as 'sliced' | 'whole';
const options = { maxRecords: 1_000_000, messageField: 'message', keepSkipped: false };
const text = `[${Array(Math.floor((2 * 2 ** 20) / 3)).fill('{}').join(',')}]`;
const gc = globalThis.gc!;
gc();
const base = process.memoryUsage().heapUsed;
let peak = base;
const sample = () => (peak = Math.max(peak, process.memoryUsage().heapUsed));
let reading = true;
const tick = () => {
  sample();
  if (reading) setImmediate(tick);
};
setImmediate(tick);
let body: unknown;
if (mode === 'whole') {
  body = parseJsonBody(text);
  sample();
} else {
  body = await readJsonBody(text, options);
}
const { count } = await readIngestItems(body, options);
sample();
reading = false;
process.stdout.write(JSON.stringify({ mode, count, peakGrowthMiB: (peak - base) / 2 ** 20 }));
