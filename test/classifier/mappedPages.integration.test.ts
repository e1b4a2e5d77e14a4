// SPDX-License-Identifier: MIT
// Resident memory of a mapped model (native/MappedPages.h): llama.cpp maps the GGUF with
// MAP_POPULATE, so every page counts; the token embedding's pages are handed back after load
// (rows of the tokens in use fault back in), and a CPU-only open() loads no GPU backend. Both
// read this process's own memory maps, so they run on Linux only.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuBackendsLoaded, loadAddon, loadBinding } from '../../src/engine/binding.js';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { maxAbsDiff } from '../helpers/logitDiff.js';

const MiB = 2 ** 20;
const model = realpathSync(tinyModel('f32'));
const fileBytes = statSync(model).size;

/** Resident bytes of this process's mappings of `path`, and whether any is mapped. */
function residentOf(path: string): { mapped: boolean; bytes: number } {
  let inFile = false;
  let mapped = false;
  let bytes = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ /.test(line);
    if (header) {
      inFile = line.endsWith(` ${path}`);
      mapped ||= inFile;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (inFile && rss) bytes += Number(rss[1]) * 1024;
  }
  return { mapped, bytes };
}

describe.runIf(process.platform === 'linux')('resident memory of a mapped model', () => {
  let clf: LogClassifier;
  let embdBytes: number;
  beforeAll(async () => {
    embdBytes = (await readGgufHeader(model)).tensors.find((t) => t.name === 'token_embd.weight')!.byteSize;
    clf = await LogClassifier.open(model, { threads: 1, gpu: 'cpu', resultCache: 0 });
  });
  afterAll(async () => {
    await clf?.dispose();
  });

  it("loads no GPU backend for gpu: 'cpu'; listing devices loads them", () => {
    expect(gpuBackendsLoaded()).toBe(false);
    expect(clf.info.plan.device.value).toBe('CPU');
    loadBinding().devices();
    expect(gpuBackendsLoaded()).toBe(true);
  });

  it('hands back the token embedding after load; rows in use come back, the rest stays out', async () => {
    // The tiny model is mostly embedding: 38 of its 43 MiB.
    expect(embdBytes).toBeGreaterThan(fileBytes * 0.8);
    expect(clf.info.plan.releasePages.value).toBe(`${(embdBytes / MiB).toFixed(0)} MiB`);
    const afterLoad = residentOf(model);
    expect(afterLoad.mapped).toBe(true);
    expect(afterLoad.bytes).toBeLessThan(fileBytes - embdBytes + 2 * MiB);

    const lines = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).slice(0, 50);
    const results = await clf.classifyMany(lines);
    expect(results.every((r) => Number.isFinite(r.score) && r.score > 0)).toBe(true);
    // 50 lines touch a few hundred distinct token rows: pages around them, not the embedding.
    expect(residentOf(model).bytes).toBeLessThan(fileBytes - embdBytes / 2);
  });

  it('hands nothing back for a model read into memory, whose logits equal the mapped one', async () => {
    const read = await LogClassifier.open(model, { threads: 1, gpu: 'cpu', resultCache: 0, useMmap: false });
    try {
      expect(read.info.plan.releasePages).toMatchObject({ value: '0 MiB', why: expect.stringContaining('read into memory') });
      const [a, b] = await Promise.all([read.classify('kernel: usb 1-1: new device'), clf.classify('kernel: usb 1-1: new device')]);
      expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
    } finally {
      await read.dispose();
    }
  });
});

describe('the addon\'s releaseSpans load option', () => {
  it('refuses spans that are not [start, end] pairs with start < end', () => {
    const addon = loadAddon();
    for (const bad of [5, [[1]], [[3, 2]], [[-1, 4]], [['0', 4]], [[0, Number.POSITIVE_INFINITY]]]) {
      expect(() => addon.Model.load(model, { gpuLayers: 0, useMmap: true, releaseSpans: bad as never }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it.runIf(process.platform === 'linux')('releasing the whole mapped file changes no logit: pages fault back in from the page cache', async () => {
    const addon = loadAddon();
    const meta = validateLogtriageModel(await readGgufHeader(model));
    const lines = splitLogLines(readFileSync(loghubFiles()[1]!, 'utf8')).slice(0, 8);
    const logitsOf = async (releaseSpans: Array<[number, number]>) => {
      const m = await addon.Model.load(model, { gpuLayers: 0, useMmap: true, releaseSpans });
      const released = m.info().releasedBytes;
      const ctx = await addon.Context.create(m, { nCtx: 512, nBatch: 512, nUbatch: 512, nSeqMax: 8, threads: 1, flashAttn: false, kvType: 'f32', nLabels: meta.labels.length, head: meta.head.weight });
      const { tokens, offsets } = await m.tokenize(lines, false);
      const logits = Array.from(await ctx.classify(tokens, offsets));
      await ctx.dispose();
      await m.dispose();
      return { released, logits };
    };
    const kept = await logitsOf([]);
    const dropped = await logitsOf([[0, fileBytes]]);
    expect(kept.released).toBe(0);
    // Everything llama.cpp keeps mapped after load (it unmaps the header and metadata): all tensors.
    const tensorBytes = (await readGgufHeader(model)).tensors.reduce((n, t) => n + t.byteSize, 0);
    expect(dropped.released).toBeGreaterThan(tensorBytes - 64 * 1024);
    expect(dropped.logits).toEqual(kept.logits);
  });
});
