// SPDX-License-Identifier: MIT
// Public surface: named exports only.
export { LogClassifier } from './classifier.js';
export type { ClassificationResult, ClassifierInfo, ClassifierStats, PipelineEntry, ResultFlag } from './classifier.js';
export type { ClassifyOptions, OpenOptions, PipelineOptions } from './options.js';
export type { BatchTiming } from './queue.js';
export {
  AbortError,
  BackendError,
  ConvertError,
  DisposedError,
  EmptyInputError,
  InputTooLongError,
  LogTriageError,
  ModelFormatError,
  ModelLoadError,
  NativeAddonError,
  OverloadedError,
  ValidationError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { convertCheckpoint, CONVERT_TYPES } from './convert/index.js';
export type { ConvertOptions, ConvertProgress, ConvertResult, ConvertType } from './convert/index.js';
