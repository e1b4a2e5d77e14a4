// SPDX-License-Identifier: MIT
// The classification server, for `logtriage serve` and for programs that embed it.
export { createServer } from './createServer.js';
export { ERROR_STATUS, HttpError, type ErrorBody, type ErrorKind } from './errors.js';
export type { ServerOptions } from './serverOptions.js';
export type {
  ClassifyItem,
  ClassifyRequest,
  ClassifyResponse,
  IngestAnnotation,
  InfoResponse,
  Prediction,
  PredictRequest,
  PredictResponse,
} from './schemas.js';
