// SPDX-License-Identifier: MIT
// From the caller's strings to the token ids a line is classified by: a type check, NFC (made
// safe for pathological mark runs), the empty and whitespace rules, the result flags,
// tokenizing in one native call, truncation to maxTokens, and dropping trailing padding.
// tokenize() and classify() share every step up to tokenizing, so they cannot drift apart.
import { EmptyInputError, InputTooLongError, LogTriageError, ValidationError } from '../errors.js';
import type { NativeModel } from './native.js';
import type { ResolvedOpenOptions } from '../options.js';

/** Why a result deserves a second look. */
export type ResultFlag =
  /** The text contains special-token text (e.g. `<|endoftext|>`), tokenized as plain text. */
  | 'special-token-text'
  /** The text had lone UTF-16 surrogates; they were replaced by U+FFFD before tokenizing. */
  | 'invalid-unicode';

/** Why one line of a call is refused on its own. */
export type LineError = EmptyInputError | InputTooLongError | ValidationError;

type Truncation = ResolvedOpenOptions['truncation'];

export interface PreparedLine {
  tokens: Int32Array;
  truncated: boolean;
  flags: ResultFlag[];
}

export interface PrepareSettings extends Pick<ResolvedOpenOptions, 'specialTokens' | 'rejectWhitespace' | 'truncation'> {
  maxTokens: number;
  /** Texts of the tokenizer's control tokens, for the 'special-token-text' flag. */
  controlTexts: readonly string[];
  padTokenId: number | undefined;
}

const WHITESPACE_ONLY = /^\s*$/u;

/**
 * The blank-line rule, the one place it lives: a text with nothing to classify (empty, or
 * whitespace only unless `rejectWhitespace` is false). The classifier refuses such a line
 * (EmptyInputError); the CLI counts it as blank, /ingest skips its record, the worker dead-letters it.
 */
export function isBlankText(text: string, rejectWhitespace = true): boolean {
  return text.length === 0 || (rejectWhitespace && WHITESPACE_ONLY.test(text));
}
const LONG_MARK_RUN = /\p{M}{31,}/gu;
const MARKS_30 = /\p{M}{1,30}/gu;

// NFC after Unicode's stream-safe rule (UAX #15): a run of more than 30 combining marks gets
// U+034F COMBINING GRAPHEME JOINER after every 30. V8's normalize() is quadratic in such a run
// (160,000 mixed marks took 103 s on the JS thread); real text never has one.
function normalizeText(text: string): string {
  return text
    .toWellFormed()
    .replace(LONG_MARK_RUN, (run) => run.match(MARKS_30)!.join('\u034f'))
    .normalize('NFC');
}

function checkedText(text: unknown, i: number): string {
  if (typeof text !== 'string') throw new ValidationError(`Expected a string for texts[${i}] but received ${typeof text}`);
  return normalizeText(text);
}

export class LinePreparer {
  constructor(
    private readonly model: NativeModel,
    private readonly settings: PrepareSettings,
  ) {}

  /** Token ids of each text as the classifier would feed them, before truncation. */
  async tokenIds(texts: readonly string[]): Promise<Int32Array[]> {
    return this.tokenize(texts.map(checkedText));
  }

  /**
   * The type check, the empty and whitespace rules and the result flags of prepare(), without
   * tokenizing: the template tier checks and flags every line, including those it will not tokenize.
   */
  check(texts: readonly string[]): ResultFlag[][] {
    return texts.map((text, i) => this.flagsOf(text, this.checkedLine(text, i)));
  }

  private flagsOf(text: string, nfc: string): ResultFlag[] {
    const flags: ResultFlag[] = [];
    if (!text.isWellFormed()) flags.push('invalid-unicode');
    if (this.settings.specialTokens === 'plain' && this.settings.controlTexts.some((t) => nfc.includes(t))) flags.push('special-token-text');
    return flags;
  }

  private checkedLine(text: unknown, i: number): string {
    const nfc = checkedText(text, i);
    if (isBlankText(nfc, this.settings.rejectWhitespace)) {
      throw new EmptyInputError(
        `texts[${i}] is ${nfc.length === 0 ? 'empty' : 'whitespace only'}: there is nothing to classify` +
          (nfc.length === 0 ? '' : ' (set rejectWhitespace: false to classify it anyway)'),
      );
    }
    return nfc;
  }

  /** Lines ready to classify; throws on an empty or whitespace-only line, or one too long for truncation 'error'. */
  async prepare(texts: readonly string[], truncation: Truncation = this.settings.truncation): Promise<PreparedLine[]> {
    const lines = await this.prepareSettled(texts, truncation);
    // The first refused line fails the call: the text checks come before tokenizing, so they win.
    const refused = lines.find((l) => !(l instanceof InputTooLongError) && l instanceof LogTriageError) ?? lines.find((l) => l instanceof LogTriageError);
    if (refused !== undefined) throw refused;
    return lines as PreparedLine[];
  }

  /** check() with a refused line's error in its place (type, empty, whitespace; nothing tokenized). */
  checkSettled(texts: readonly string[]): Array<ResultFlag[] | LineError> {
    return this.checkEach(texts).map((c) => (c instanceof LogTriageError ? c : c.flags));
  }

  private checkEach(texts: readonly string[]): Array<{ nfc: string; flags: ResultFlag[] } | LineError> {
    return texts.map((text, i) => {
      try {
        const nfc = this.checkedLine(text, i);
        return { nfc, flags: this.flagsOf(text, nfc) };
      } catch (err) {
        if (err instanceof EmptyInputError || err instanceof ValidationError) return err;
        throw err;
      }
    });
  }

  /** prepare() with a refused line's error in its place: the other lines are prepared. */
  async prepareSettled(texts: readonly string[], truncation: Truncation = this.settings.truncation): Promise<Array<PreparedLine | LineError>> {
    const { maxTokens } = this.settings;
    const checked = this.checkEach(texts);
    const good = checked.filter((c): c is { nfc: string; flags: ResultFlag[] } => !(c instanceof LogTriageError));
    const ids = good.length > 0 ? await this.tokenize(good.map((c) => c.nfc)) : [];
    let next = 0;
    return checked.map((c, i) => {
      if (c instanceof LogTriageError) return c;
      const all = ids[next++]!;
      let kept = all;
      if (all.length > maxTokens) {
        if (truncation === 'error') return new InputTooLongError(all.length, maxTokens, i);
        kept = truncation === 'right' ? all.subarray(0, maxTokens) : all.subarray(all.length - maxTokens);
      }
      return { tokens: this.dropTrailingPad(kept), truncated: kept !== all, flags: c.flags };
    });
  }

  private async tokenize(normalized: string[]): Promise<Int32Array[]> {
    const { tokens, offsets } = await this.model.tokenize(normalized, this.settings.specialTokens === 'parse');
    return normalized.map((_, i) => tokens.subarray(offsets[i]!, offsets[i + 1]!));
  }

  // HF pools the rightmost token that is not pad_token_id (index 0 when all are pad). The model
  // is causal, so dropping the trailing pad tokens leaves that token's hidden state unchanged.
  private dropTrailingPad(ids: Int32Array): Int32Array {
    const pad = this.settings.padTokenId;
    if (pad === undefined) return ids;
    let end = ids.length;
    while (end > 1 && ids[end - 1] === pad) end--;
    return end === ids.length ? ids : ids.subarray(0, end);
  }
}
