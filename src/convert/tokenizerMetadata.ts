// SPDX-License-Identifier: MIT
// Builds the tokenizer.ggml.* metadata from tokenizer.json and tokenizer_config.json the way
// llama.cpp's convert_hf_to_gguf.py does for a GPT-2-style BPE vocabulary (get_vocab_base,
// _set_vocab_gpt2, gguf-py SpecialVocab), without Python or transformers.

import { join } from 'node:path';

import { z } from 'zod';

import { ConvertError } from '../errors.js';
import { TOKEN_TYPE } from '../gguf/ggufTypes.js';
import type { Qwen2ClassifierConfig } from './readHfConfig.js';
import { readJson } from './readHfConfig.js';

/** The Split regex of the Qwen2 / Qwen2.5 pre-tokenizer, which llama.cpp implements as pre = "qwen2". */
const QWEN2_PRETOKENIZER_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface TokenizerMetadata {
  /** One entry per id up to vocab_size; unused ids are "[PAD<id>]". */
  readonly tokens: string[];
  readonly tokenTypes: Int32Array;
  /** "left right" strings. */
  readonly merges: string[];
  readonly eosTokenId: number;
  readonly bosTokenId?: number;
  readonly padTokenId?: number;
}

const addedTokenSchema = z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().optional() }).loose();
const tokenizerSchema = z
  .object({
    added_tokens: z.array(addedTokenSchema).optional(),
    pre_tokenizer: z.unknown().optional(),
    model: z
      .object({
        type: z.literal('BPE'),
        // Entries are checked in buildVocab: zod per entry costs ~0.3 s on a 151k vocabulary.
        vocab: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'Expected an object'),
        merges: z.union([z.array(z.string()), z.array(z.tuple([z.string(), z.string()]))]),
      })
      .loose(),
  })
  .loose();
const specialTokenSchema = z.union([z.string(), z.object({ content: z.string() }).loose()]).nullable().optional();
const tokenizerConfigSchema = z.object({ eos_token: specialTokenSchema }).loose();

function parse<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConvertError(`${file}: ${issue.path.join('.') || '(root)'} is invalid: ${issue.message}`);
}

/** Finds every Split regex in the pre-tokenizer (alone or inside a Sequence). */
function splitPatterns(preTokenizer: unknown): string[] {
  if (typeof preTokenizer !== 'object' || preTokenizer === null) return [];
  const node = preTokenizer as { type?: unknown; pretokenizers?: unknown; pattern?: { Regex?: unknown } };
  if (node.type === 'Sequence' && Array.isArray(node.pretokenizers)) return node.pretokenizers.flatMap(splitPatterns);
  return node.type === 'Split' && typeof node.pattern?.Regex === 'string' ? [node.pattern.Regex] : [];
}

/** convert_hf_to_gguf's does_token_look_special: added tokens that must be CONTROL even when not flagged special. */
function looksSpecial(token: string): boolean {
  return (
    ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(token) ||
    (token.startsWith('<|') && token.endsWith('|>')) ||
    (token.startsWith('<｜') && token.endsWith('｜>')) ||
    (token.startsWith('<unused') && token.endsWith('>'))
  );
}

/** tokenizers ≥ 0.20 may store merges as pairs; llama.cpp wants "a b" with spaces inside parts as U+0120. */
function mergeStrings(merges: string[] | [string, string][]): string[] {
  return merges.map((merge) => {
    if (typeof merge === 'string') return merge;
    return merge.map((part) => part.replaceAll(' ', '\u0120')).join(' ');
  });
}

function buildVocab(tokenizer: z.infer<typeof tokenizerSchema>, vocabSize: number): { tokens: string[]; tokenTypes: Int32Array } {
  const tokens = new Array<string | undefined>(vocabSize);
  const tokenTypes = new Int32Array(vocabSize).fill(TOKEN_TYPE.UNUSED);
  const place = (id: number, token: string, type: number): void => {
    if (id >= vocabSize) throw new ConvertError(`tokenizer.json: token ${JSON.stringify(token)} has id ${id}, not below config.json vocab_size ${vocabSize}`);
    const previous = tokens[id];
    if (previous !== undefined && previous !== token) {
      throw new ConvertError(`tokenizer.json: id ${id} is both ${JSON.stringify(previous)} and ${JSON.stringify(token)}`);
    }
    tokens[id] = token;
    tokenTypes[id] = type;
  };
  for (const [token, id] of Object.entries(tokenizer.model.vocab)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new ConvertError(`tokenizer.json: model.vocab entry ${JSON.stringify(token)} has invalid id ${JSON.stringify(id)}`);
    place(id as number, token, TOKEN_TYPE.NORMAL);
  }
  for (const added of tokenizer.added_tokens ?? []) {
    if (added.special === true || looksSpecial(added.content)) place(added.id, added.content, TOKEN_TYPE.CONTROL);
    // llama.cpp assumes user-defined tokens are pre-normalized: SentencePiece's '▁' becomes a space.
    else place(added.id, added.content.replaceAll('\u2581', ' '), TOKEN_TYPE.USER_DEFINED);
  }
  const filled = Array.from(tokens, (token, id) => token ?? `[PAD${id}]`);
  // llama.cpp aborts on a vocabulary where two ids share one text.
  const idOf = new Map<string, number>();
  filled.forEach((token, id) => {
    if (!token.isWellFormed()) throw new ConvertError(`tokenizer.json: token ${id} contains a lone UTF-16 surrogate`);
    const other = idOf.get(token);
    if (other !== undefined) throw new ConvertError(`tokenizer.json: ids ${other} and ${id} are both ${JSON.stringify(token)}`);
    idOf.set(token, id);
  });
  return { tokens: filled, tokenTypes };
}

/** Reads the tokenizer files in `dir` and returns the tokenizer.ggml.* values. */
export async function readTokenizerMetadata(dir: string, config: Qwen2ClassifierConfig): Promise<TokenizerMetadata> {
  const tokenizer = parse(tokenizerSchema, await readJson(join(dir, 'tokenizer.json'), 'tokenizer.json'), 'tokenizer.json');
  const tokenizerConfig = parse(tokenizerConfigSchema, await readJson(join(dir, 'tokenizer_config.json'), 'tokenizer_config.json'), 'tokenizer_config.json');
  if (!splitPatterns(tokenizer.pre_tokenizer).includes(QWEN2_PRETOKENIZER_REGEX)) {
    throw new ConvertError('tokenizer.json: pre_tokenizer is not the Qwen2 split regex, so llama.cpp\'s "qwen2" pre-tokenizer would split text differently');
  }
  const { tokens, tokenTypes } = buildVocab(tokenizer, config.dims.nVocab);
  const merges = mergeStrings(tokenizer.model.merges);
  if (merges.length === 0) throw new ConvertError('tokenizer.json: model.merges is empty');
  const badMerge = merges.findIndex((m) => m.indexOf(' ', 1) === -1);
  if (badMerge !== -1) throw new ConvertError(`tokenizer.json: model.merges[${badMerge}] (${JSON.stringify(merges[badMerge])}) is not "left right"`);

  // As gguf-py's SpecialVocab: tokenizer_config's eos_token wins, then config.json's eos_token_id.
  const eosEntry = tokenizerConfig.eos_token;
  const eosText = typeof eosEntry === 'string' ? eosEntry : eosEntry?.content;
  const eosTokenId = tokenizer.added_tokens?.find((t) => t.content === eosText)?.id ?? config.eosTokenId;
  if (eosTokenId === undefined) throw new ConvertError('No EOS token: tokenizer_config.json eos_token and config.json eos_token_id are both missing');
  if (eosTokenId >= tokens.length) throw new ConvertError(`EOS token id ${eosTokenId} is not below vocab_size ${tokens.length}`);
  return { tokens, tokenTypes, merges, eosTokenId, bosTokenId: config.bosTokenId, padTokenId: config.padTokenId };
}
