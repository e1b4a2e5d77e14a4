// SPDX-License-Identifier: MIT
// Getting models from the HuggingFace hub: pull into the cache, resolve a repo id to a cached GGUF.
export { DEFAULT_GGUF_TYPE, DEFAULT_REPO_ID, DEFAULT_REVISION } from './defaults.js';
export { pullModel } from './pullModel.js';
export type { PullResult } from './pullModel.js';
export type { PullOptions, PullProgress } from './pullOptions.js';
export { resolveModel } from './resolveModel.js';
