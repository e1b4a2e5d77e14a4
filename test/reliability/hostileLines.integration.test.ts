// SPDX-License-Identifier: MIT
// Seeded hostile log lines: random bytes and code units, lone surrogates, NUL and control
// characters, terminal escapes, bidi and invisible characters, long combining sequences, every
// special-token text of the vocabulary, 1 MB lines, whitespace only. Each must get a valid
// result or a typed error, and plain special-token mode must never emit a control token.
//
// CI runs 10,000 lines. Longer local runs:
//   LOGTRIAGE_FUZZ_LINES=1000000 LOGTRIAGE_FUZZ_SECONDS=1800 LOGTRIAGE_FUZZ_MB_LINES=32 \
//   LOGTRIAGE_FUZZ_SEED=$RANDOM npx vitest run test/reliability/hostileLines
// stops at the line count or the deadline, whichever comes first (and still needs 10,000 lines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/engine/binding.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { EmptyInputError, LogClassifier, type ClassificationResult } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { hostileLine, megabyteLines, specialTokenLines, type HostileLine } from './helpers/hostileLines.js';
import { Prng, seedFromEnv } from './helpers/prng.js';

const seed = seedFromEnv('LOGTRIAGE_FUZZ_SEED', 20_260_107);
const envCount = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const LINES = envCount('LOGTRIAGE_FUZZ_LINES', 10_000);
const SECONDS = envCount('LOGTRIAGE_FUZZ_SECONDS', 0);
const MEGABYTE_LINES = envCount('LOGTRIAGE_FUZZ_MB_LINES', 4);
const MIN_LINES = 10_000;
/** Short enough to keep 10,000 lines cheap; the longer hostile lines are cut to it. */
const MAX_TOKENS = 128;
/** Lines per classifyMany() call: many decodes' worth, so the queue packs them densely. */
const CHUNK = 500;
const CONTROL_TOKEN_TYPE = 3;
const WHITESPACE_ONLY = /^\s*$/u;

const options = { threads: 1, maxTokens: MAX_TOKENS, resultCache: 0 } as const;

describe(`LogClassifier on hostile log lines (seed ${seed})`, () => {
  let plain: LogClassifier;
  let parse: LogClassifier;
  /** Texts llama.cpp treats as special (CONTROL or USER_DEFINED), from the loaded model. */
  let controlTexts: string[];
  /** Every token text that is not a NORMAL token in the GGUF (control, unused, ...). */
  let specials: string[];
  /** Ids of the tokenizer's own special tokens (GGUF type CONTROL). */
  let controlIds: Set<number>;

  beforeAll(async () => {
    [plain, parse] = await Promise.all([LogClassifier.open(tinyModel('f32'), options), LogClassifier.open(tinyModel('f32'), { ...options, specialTokens: 'parse' })]);
    const model = await loadBinding().Model.load(tinyModel('f32'), { gpuLayers: 0, useMmap: true });
    controlTexts = model.info().controlTokens.map(([, text]) => text).filter((t) => t.length > 0);
    await model.dispose();
    const metadata = (await readGgufHeader(tinyModel('f32'))).metadata;
    const tokens = metadata.get('tokenizer.ggml.tokens')!.value as string[];
    const types = metadata.get('tokenizer.ggml.token_type')!.value as Int32Array;
    controlIds = new Set([...types.keys()].filter((id) => types[id] === CONTROL_TOKEN_TYPE));
    specials = [...new Set([...controlTexts, ...tokens.filter((_, id) => types[id] !== 1)])];
  });
  afterAll(async () => {
    await Promise.all([plain?.dispose(), parse?.dispose()]);
  });

  const show = (line: HostileLine) => `[${line.category}] ${JSON.stringify(line.text.length > 120 ? `${line.text.slice(0, 120)}…(${line.text.length})` : line.text)}`;

  /** What the result must say about `line`, or why it is wrong. */
  function problems(line: HostileLine, r: ClassificationResult, clf: LogClassifier): string[] {
    const out: string[] = [];
    if (!clf.labels.includes(r.label)) out.push(`label ${r.label}`);
    if (r.logits.length !== clf.labels.length || !r.logits.every(Number.isFinite)) out.push(`logits ${r.logits}`);
    if (!(r.score > 0 && r.score <= 1)) out.push(`score ${r.score}`);
    if (!(r.tokens >= 1 && r.tokens <= MAX_TOKENS)) out.push(`tokens ${r.tokens}`);
    if (r.flags.includes('invalid-unicode') === line.text.isWellFormed()) out.push(`flags ${r.flags} (well-formed: ${line.text.isWellFormed()})`);
    const nfc = line.text.toWellFormed().normalize('NFC');
    const hasSpecialText = clf === plain && controlTexts.some((t) => nfc.includes(t));
    if (r.flags.includes('special-token-text') !== hasSpecialText) out.push(`flags ${r.flags} (special-token text: ${hasSpecialText})`);
    return out;
  }

  const expectsEmpty = (line: HostileLine) => WHITESPACE_ONLY.test(line.text.toWellFormed().normalize('NFC'));

  /**
   * Classifies `lines` (in one batch, falling back to one at a time to pin a failure on its
   * line); returns a description of every line that got the wrong outcome.
   */
  async function classifyAll(clf: LogClassifier, lines: readonly HostileLine[]): Promise<string[]> {
    const failures: string[] = [];
    const empty = lines.filter(expectsEmpty);
    const text = lines.filter((l) => !expectsEmpty(l));
    for (const line of empty) {
      const err = await clf.classify(line.text).then(() => undefined, (e: unknown) => e);
      if (!(err instanceof EmptyInputError)) failures.push(`${show(line)}: expected EmptyInputError, got ${err === undefined ? 'a result' : String(err)}`);
    }
    const batch = await clf.classifyMany(text.map((l) => l.text)).then(
      (results) => results,
      () => undefined,
    );
    for (const [i, line] of text.entries()) {
      let result = batch?.[i];
      if (!result) {
        const one = await clf.classify(line.text).then((r) => r, (e: unknown) => e as Error);
        if (one instanceof Error) {
          failures.push(`${show(line)}: ${one.name}: ${one.message}`);
          continue;
        }
        result = one;
      }
      const wrong = problems(line, result, clf);
      if (wrong.length > 0) failures.push(`${show(line)}: ${wrong.join('; ')}`);
    }
    return failures;
  }

  /** Plain mode must tokenize special-token text as text: no control token id may come out. */
  async function controlIdsEmitted(lines: readonly HostileLine[]): Promise<string[]> {
    const ids = await plain.tokenizeMany(lines.map((l) => l.text));
    return lines.filter((_, i) => ids[i]!.some((id) => controlIds.has(id))).map(show);
  }

  it('every special-token text of the vocabulary, in plain and parse mode', async () => {
    expect(controlTexts).toEqual(expect.arrayContaining(['<|endoftext|>', '<|im_start|>', '<|im_end|>']));
    expect(controlIds.size).toBeGreaterThanOrEqual(3);
    const lines = specialTokenLines(specials, new Prng(seed));
    expect(lines.length).toBeGreaterThanOrEqual(specials.length * 6);
    expect(await classifyAll(plain, lines)).toEqual([]);
    expect(await classifyAll(parse, lines)).toEqual([]);
    expect(await controlIdsEmitted(lines)).toEqual([]);
    // Parse mode does read them as control tokens: the reason plain is the default.
    const [ids] = await parse.tokenizeMany(['<|im_start|>']);
    expect(controlIds.has(ids![0]!)).toBe(true);
  });

  it(
    `${LINES} seeded hostile lines each get a valid result or a typed error`,
    async () => {
      const rng = new Prng(seed);
      const deadline = SECONDS > 0 ? Date.now() + SECONDS * 1000 : Infinity;
      const perCategory = new Map<string, number>();
      const failures: string[] = [];
      let done = 0;
      while (done < LINES && (done < MIN_LINES || Date.now() < deadline)) {
        const lines = Array.from({ length: Math.min(CHUNK, LINES - done) }, (_, k) => hostileLine(rng, done + k));
        failures.push(...(await classifyAll(plain, lines)), ...(await controlIdsEmitted(lines.filter((l) => !expectsEmpty(l)))));
        for (const l of lines) perCategory.set(l.category, (perCategory.get(l.category) ?? 0) + 1);
        done += lines.length;
        if (failures.length > 50) break;
      }
      expect(failures).toEqual([]);
      expect(done).toBeGreaterThanOrEqual(Math.min(LINES, MIN_LINES));
      expect(perCategory.size).toBe(16);
      for (const [category, n] of perCategory) expect(n, category).toBeGreaterThan(done / 20);
    },
    SECONDS > 0 ? SECONDS * 1000 + 600_000 : 300_000,
  );

  it(
    `${MEGABYTE_LINES} lines of 1 MB are tokenized in full and truncated to maxTokens`,
    async () => {
      const lines = megabyteLines(new Prng(seed), MEGABYTE_LINES, specials);
      for (const line of lines) {
        const r = await plain.classify(line.text);
        expect(problems(line, r, plain), show(line)).toEqual([]);
        expect({ category: line.category, truncated: r.truncated, tokens: r.tokens }).toEqual({ category: line.category, truncated: true, tokens: MAX_TOKENS });
      }
    },
    600_000,
  );
});
