// SPDX-License-Identifier: MIT
// Public surface of the converter (re-exported from src/index.ts).

export { convertCheckpoint } from './convertCheckpoint.js';
export type { ConvertResult } from './convertCheckpoint.js';
export { CONVERT_TYPES } from './convertOptions.js';
export type { ConvertOptions, ConvertProgress, ConvertType, QuantizeFn } from './convertOptions.js';
