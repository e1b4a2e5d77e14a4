// SPDX-License-Identifier: MIT
// `owner/name[@revision][:type]`: how a model on the hub is named wherever a GGUF path is also
// accepted (`--model`, `LogClassifier.open()`, `logtriage pull`).
import { CONVERT_TYPES, type ConvertType } from '../convert/convertOptions.js';
import { ValidationError } from '../errors.js';

export interface ModelRef {
  /** `owner/name` on the hub. */
  readonly repoId: string;
  /** Branch, tag or commit, when given. */
  readonly revision?: string;
  /** GGUF tensor type, when given. */
  readonly type?: ConvertType;
}

// Hub names: letters, digits, '-', '_', '.'; both parts start with a letter or digit.
const MODEL_REF = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?(?::(\w+))?$/;

/** Throws unless `revision` can name a cache folder: no empty, '.' or '..' segments. */
export function checkRevision(revision: string): string {
  if (!/^[\w./-]+$/.test(revision) || revision.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ValidationError(`Expected a branch, tag or commit for revision but received ${JSON.stringify(revision)}`);
  }
  return revision;
}

/** The parts of a model reference, or undefined when `text` is not shaped like one. */
export function parseModelRef(text: string): ModelRef | undefined {
  const match = MODEL_REF.exec(text);
  if (!match) return undefined;
  const [, repoId = '', revision, type] = match;
  if (type !== undefined && !(CONVERT_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`Unknown type '${type}' in model '${text}': expected one of ${CONVERT_TYPES.join(', ')}`);
  }
  return {
    repoId,
    ...(revision === undefined ? {} : { revision: checkRevision(revision) }),
    ...(type === undefined ? {} : { type: type as ConvertType }),
  };
}
