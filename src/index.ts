// SPDX-License-Identifier: MIT
// Public surface: named exports only.
export { LogClassifier } from './LogClassifier.js';
export type { ClassificationResult, ClassifierInfo, ClassifierStats, PipelineEntry, ResultFlag } from './LogClassifier.js';
export type { ClassifyOptions, EmbedOptions, OpenOptions, PipelineOptions } from './options.js';
export type { BatchTiming } from './engine/BatchQueue.js';
export type { Calibration } from './gguf/calibrationKeys.js';
export type { ReviewThresholds } from './calibration/needsReview.js';
export {
  AbortError,
  AdaptError,
  BackendError,
  CalibrationError,
  ChecksumError,
  ConvertError,
  DisposedError,
  EmptyInputError,
  HubAuthError,
  HubError,
  InputTooLongError,
  IntegrityError,
  LogTriageError,
  ModelFormatError,
  ModelLoadError,
  ModelNotCachedError,
  NativeAddonError,
  OverloadedError,
  ValidationError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { convertCheckpoint, CONVERT_TYPES } from './convert/index.js';
export type { ConvertOptions, ConvertProgress, ConvertResult, ConvertType } from './convert/index.js';
export { TemplateParser } from './templates/TemplateParser.js';
export type { TemplateMatch, TemplateSummary } from './templates/TemplateParser.js';
export { templateOf } from './templates/templateOf.js';
export type { TemplateParserOptions, TemplateTierOptions } from './options.js';
export type { RetiredTemplate, TemplateTierStats } from './templates/TemplateTier.js';
export { verifyModel } from './gguf/verifyModel.js';
export type { VerifyOptions, VerifyResult } from './gguf/verifyModel.js';
export { DEFAULT_GGUF_TYPE, DEFAULT_REPO_ID, pullModel, resolveModel } from './hub/index.js';
export type { PullOptions, PullProgress, PullResult } from './hub/index.js';
