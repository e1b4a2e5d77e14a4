// SPDX-License-Identifier: MIT
// Tokenizer parity on real logs: llama.cpp's tokenizer (through our NFC step) against
// HuggingFace's own tokenizer implementation in JS, on every line of every loghub file.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';

const files = loghubFiles();

describe('tokenizer parity with @huggingface/tokenizers on loghub', () => {
  let hf: Tokenizer;
  let parse: LogClassifier;
  beforeAll(async () => {
    const json = JSON.parse(readFileSync(join(tinyCheckpointDir(), 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(tinyCheckpointDir(), 'tokenizer_config.json'), 'utf8'));
    hf = new Tokenizer(json, config);
    parse = await LogClassifier.open(tinyModel('f32'), { threads: 2, specialTokens: 'parse' });
  });
  afterAll(async () => {
    await parse?.dispose();
  });

  it('has the ten loghub systems', () => {
    expect(files).toHaveLength(10);
  });

  for (const file of files) {
    it(`${basename(file)}: every line tokenizes exactly as HF`, async () => {
      const lines = splitLogLines(readFileSync(file, 'utf8'));
      expect(lines.length).toBeGreaterThanOrEqual(2000);
      const ours = await parse.tokenizeMany(lines);
      let mismatches = 0;
      const examples: string[] = [];
      lines.forEach((line, i) => {
        const theirs = hf.encode(line, { add_special_tokens: false }).ids;
        if (JSON.stringify(theirs) !== JSON.stringify(ours[i])) {
          mismatches++;
          if (examples.length < 3) examples.push(`line ${i + 1}: ${JSON.stringify(line.slice(0, 80))}`);
        }
      });
      expect(mismatches, examples.join('\n')).toBe(0);
    });
  }
});
