// SPDX-License-Identifier: MIT
// Independent check that unmodified llama.cpp (node-llama-cpp 3.21.1's prebuilt binaries) loads a
// converted F32 file, tokenizes like HuggingFace and, with an F32 KV cache, reproduces the
// reference logits through the LAST-pooled embedding and our metadata head.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getLlama } from 'node-llama-cpp';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/convert/index.js';
import type { ConvertResult } from '../../src/convert/index.js';
import { EXPECTED_CASE_COUNT, expectedCases, tinyCheckpointDir } from '../fixtures/index.js';

/** HF normalizes to NFC (tokenizer.json normalizer); llama.cpp's BPE does not, so NFD input tokenizes differently. */
const NOT_NFC = new Set(['accents_nfd']);
/**
 * Logits are compared on the cases up to this many tokens (33 of them): llama.cpp also runs the
 * tied 151936-wide LM head over every token of a pooled batch, which dominates on this tiny model.
 */
const MAX_LOGIT_TOKENS = 32;

let dir: string;
let result: ConvertResult;
let llama: Llama;
let model: LlamaModel;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-llama-load-'));
  result = await convertCheckpoint(tinyCheckpointDir(), join(dir, 'tiny-f32.gguf'), { type: 'f32' });
  llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  model = await llama.loadModel({
    modelPath: result.outPath,
    defaultContextFlashAttention: false,
    experimentalDefaultContextKvCacheKeyType: 'F32',
    experimentalDefaultContextKvCacheValueType: 'F32',
  });
});
afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('a converted F32 model in unmodified llama.cpp', () => {
  const cases = expectedCases();

  it('loads with the checkpoint dimensions', () => {
    expect(cases).toHaveLength(EXPECTED_CASE_COUNT);
    expect(model.trainContextSize).toBe(32768);
    expect(model.embeddingVectorSize).toBe(64);
  });

  it('tokenizes every NFC case exactly like HuggingFace (special-token text as plain text)', () => {
    const checked = cases.filter((c) => !NOT_NFC.has(c.name));
    for (const c of checked) expect(Array.from(model.tokenize(c.text, false)), c.name).toEqual(c.plain_text_ids ?? c.ids);
    expect(checked).toHaveLength(EXPECTED_CASE_COUNT - NOT_NFC.size);
    const nfd = cases.find((c) => c.name === 'accents_nfd')!;
    expect(Array.from(model.tokenize(nfd.text.normalize('NFC'), false))).toEqual(nfd.ids);
  });

  it('reproduces the reference logits through the pooled embedding and the metadata head', async () => {
    // One thread: llama.cpp's spinning workers thrash when vitest runs other files on the same cores.
    const context = await model.createEmbeddingContext({ contextSize: MAX_LOGIT_TOKENS, threads: 1 });
    const { weight, nLabels, nEmbd } = result.model.head;
    let worst = 0;
    let compared = 0;
    for (const c of cases) {
      const expected = c.plain_text_logits ?? c.logits;
      const tokens = model.tokenize(c.text, false);
      if (expected === null || NOT_NFC.has(c.name) || tokens.length > MAX_LOGIT_TOKENS) continue;
      const { vector } = await context.getEmbeddingFor(tokens);
      for (let label = 0; label < nLabels; label++) {
        let logit = 0;
        for (let j = 0; j < nEmbd; j++) logit += vector[j]! * weight[label * nEmbd + j]!;
        worst = Math.max(worst, Math.abs(logit - expected[label]!));
      }
      compared++;
    }
    await context.dispose();
    const eligible = cases.filter((c) => (c.plain_text_logits ?? c.logits) !== null && !NOT_NFC.has(c.name) && (c.plain_text_ids ?? c.ids).length <= MAX_LOGIT_TOKENS);
    expect(compared).toBe(eligible.length);
    expect(compared).toBeGreaterThanOrEqual(30);
    expect(worst).toBeLessThan(5e-5); // 7e-6 measured: F32 weights and KV cache
  });
});
