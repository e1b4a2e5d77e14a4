// SPDX-License-Identifier: MIT
// Metadata keys of the logtriage model format (docs/model-format.md), shared by the converter
// that writes them and the validator that reads them. The qwen2.* and tokenizer.ggml.* names
// are llama.cpp's own (src/llama-arch.cpp); only logtriage.* is ours.

export const LOGTRIAGE_FORMAT_VERSION = 1;
export const ARCHITECTURE = 'qwen2';
/** ggml quantization version llama.cpp writes into every file it produces. */
export const GGML_QUANTIZATION_VERSION = 2;

export const KEY = {
  architecture: 'general.architecture',
  name: 'general.name',
  fileType: 'general.file_type',
  quantizationVersion: 'general.quantization_version',
  contextLength: 'qwen2.context_length',
  embeddingLength: 'qwen2.embedding_length',
  blockCount: 'qwen2.block_count',
  feedForwardLength: 'qwen2.feed_forward_length',
  headCount: 'qwen2.attention.head_count',
  headCountKv: 'qwen2.attention.head_count_kv',
  ropeFreqBase: 'qwen2.rope.freq_base',
  rmsNormEps: 'qwen2.attention.layer_norm_rms_epsilon',
  poolingType: 'qwen2.pooling_type',
  labels: 'qwen2.classifier.output_labels',
  formatVersion: 'logtriage.format_version',
  headWeight: 'logtriage.head.weight',
  headShape: 'logtriage.head.shape',
  headBias: 'logtriage.head.bias',
  tokenizerModel: 'tokenizer.ggml.model',
  tokenizerPre: 'tokenizer.ggml.pre',
  tokens: 'tokenizer.ggml.tokens',
  tokenTypes: 'tokenizer.ggml.token_type',
  merges: 'tokenizer.ggml.merges',
  eosTokenId: 'tokenizer.ggml.eos_token_id',
  bosTokenId: 'tokenizer.ggml.bos_token_id',
  padTokenId: 'tokenizer.ggml.padding_token_id',
  addBosToken: 'tokenizer.ggml.add_bos_token',
} as const;
