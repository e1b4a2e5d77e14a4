// SPDX-License-Identifier: MIT
// Context: a llama_context plus the classification head. One batch runs at a time
// (ContextState::mutex); dispose() aborts a running decode and frees the context off the JS
// thread once no worker holds it.
//
// Pooling: each line's last token is its only output, and HiddenCapture takes the final-norm
// hidden state ("result_norm", the tensor llama.cpp's own LAST pooling reads) through the
// scheduler's eval callback, then stops the graph. The callback (CaptureHidden) is installed with
// the context, so it lives in workers/CreateContextWorker.cc; ClassifyWorker.cc reads the rows. llama.cpp's embeddings mode would instead
// output every token: it runs the n_vocab-wide output matmul on all of them and copies
// n_vocab x n_tokens floats per decode (311 MB at 512 tokens for Qwen2's 151,936 vocab).
#pragma once

#include "Batch.h"
#include "Model.h"
#include "PrefixCache.h"

#include <llama-cpp.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace logtriage {

// Linear head: logits = W·h (+ b), W row-major [nLabels, nEmbd], F32.
struct Head {
    std::vector<float> weight;
    std::vector<float> bias;  // empty when the checkpoint has none
    int32_t nLabels = 0;
    int32_t nEmbd = 0;

    void Apply(const float * hidden, float * logits) const;
};

// Rows of the final-norm hidden state of the outputs of the decode in progress, in output order.
struct HiddenCapture {
    std::vector<float> rows;
    int32_t nEmbd = 0;
    bool failed = false;  // the tensor had an unexpected type or width

    void Reset() {
        rows.clear();
        failed = false;
    }
};

struct ContextParams {
    uint32_t nCtx = 0;
    uint32_t nBatch = 0;
    uint32_t nUbatch = 0;
    uint32_t nSeqMax = 0;
    int32_t threads = 0;
    // llama.cpp's AUTO enables flash attention where the layers' device supports it.
    llama_flash_attn_type flashAttn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    ggml_type kvType = GGML_TYPE_F16;
    bool sharePrefixes = true;  // see DecodePlan.h
    // Most KV cells the cross-call prefix cache keeps (PrefixCache.h); 0 turns it off. Capped
    // at nCtx - nBatch so that a full decode always finds free cells.
    uint32_t prefixCacheCells = 0;
};

struct ContextState {
    std::shared_ptr<ModelHandle> model;
    llama_context_ptr ctx;
    std::unique_ptr<Batch> batch;
    Head head;
    HiddenCapture capture;
    ContextParams params;
    std::mutex mutex;                // held by the batch that is running
    std::atomic<bool> abort{ false };  // set by dispose(); checked by llama.cpp's abort callback
    // Totals over the context's life: tokens of the lines classified, and tokens actually
    // decoded (fewer when prefix sharing finds common prefixes or duplicates).
    std::atomic<uint64_t> tokensIn{ 0 };
    std::atomic<uint64_t> tokensDecoded{ 0 };
    // llama_decode calls of successful classify()/embed() calls: tokensDecoded / decodes is the
    // mean decode size, which sets the cost per token (docs/performance.md "Rate curve").
    std::atomic<uint64_t> decodes{ 0 };
    // Tokens whose KV cells came from the prefix cache instead of a decode, and cells it holds
    // (written by the worker, read by info() on the JS thread).
    std::atomic<uint64_t> tokensReused{ 0 };
    std::atomic<uint32_t> cachedCells{ 0 };
    std::unique_ptr<PrefixCache> prefixCache;  // guarded by `mutex`
    // Threads the decodes run on now (params.threads at first; a classify() call may change it).
    std::atomic<int32_t> threads{ 0 };
};

class Context : public Napi::ObjectWrap<Context> {
  public:
    static Napi::Function Init(Napi::Env env);
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextState> state);

    explicit Context(const Napi::CallbackInfo & info);
    ~Context() override;

  private:
    // create(model: Model, { nCtx, nBatch, nUbatch, nSeqMax, threads, flashAttn: boolean|'auto', kvType: 'f32'|'f16'|'q8_0', head: Float32Array,
    //   nLabels, bias?: Float32Array, sharePrefixes?: boolean (default true), prefixCacheCells?: number (default 0: off) })
    //   -> Promise<Context>
    static Napi::Value JS_create(const Napi::CallbackInfo & info);
    // classify(tokens: Int32Array, offsets: Uint32Array, threads?: number) -> Promise<Float32Array>
    // Sequence i is tokens[offsets[i], offsets[i+1]); the result holds nLabels logits per sequence.
    // threads: decode on that many threads from this call on (llama_set_n_threads; default: unchanged).
    Napi::Value JS_classify(const Napi::CallbackInfo & info);
    // embed(tokens: Int32Array, offsets: Uint32Array, threads?: number) -> Promise<Float32Array>
    // classify() with the same decodes, prefix sharing and prefix cache, but the result holds each
    // sequence's pooled hidden state (n_embd floats: last token, after the final RMSNorm), the
    // vector the head multiplies, instead of its logits.
    Napi::Value JS_embed(const Napi::CallbackInfo & info);
    // The work of classify() and embed().
    Napi::Value Run(const Napi::CallbackInfo & info, bool hidden);
    // info() -> { nCtx, nBatch, nUbatch, nSeqMax, threads (those in use now), nLabels, flashAttn, kvType, sharePrefixes, tokensIn, tokensDecoded,
    //   tokensReused, decodes, prefixCacheCells (the budget in effect), prefixCacheHeld (cells held now) }
    Napi::Value JS_info(const Napi::CallbackInfo & info);
    // dispose() -> Promise<void>; idempotent; a running classify() rejects with ABORTED.
    Napi::Value JS_dispose(const Napi::CallbackInfo & info);

    std::shared_ptr<ContextState> state_;
};

}  // namespace logtriage
