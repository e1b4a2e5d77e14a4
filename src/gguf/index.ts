// SPDX-License-Identifier: MIT
// Public surface of the GGUF module: the strict header reader and the logtriage model validator.

export { readGgufHeader, MAX_GGUF_HEADER_BYTES } from './readGguf.js';
export { validateLogtriageModel } from './validateLogtriageModel.js';
export { verifyModel } from './verifyModel.js';
export type { VerifyOptions, VerifyResult } from './verifyModel.js';
export type { ClassificationHead, DigestCoverage, LogtriageModelInfo } from './validateLogtriageModel.js';
export type { GgmlTypeInfo, GgufHeader, GgufMetadata, GgufTensorInfo, GgufValue } from './ggufTypes.js';
