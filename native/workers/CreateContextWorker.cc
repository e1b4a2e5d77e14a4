// SPDX-License-Identifier: MIT
#include "CreateContextWorker.h"

#include <new>

namespace logtriage {

static bool AbortRequested(void * data) {
    return static_cast<std::atomic<bool> *>(data)->load();
}

void CreateContextWorker::Execute() {
    const ContextParams & p = state_->params;
    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx = p.nCtx;
    cparams.n_batch = p.nBatch;
    cparams.n_ubatch = p.nUbatch;
    cparams.n_seq_max = p.nSeqMax;
    cparams.n_threads = p.threads;
    cparams.n_threads_batch = p.threads;
    cparams.embeddings = true;
    cparams.pooling_type = LLAMA_POOLING_TYPE_LAST;
    cparams.flash_attn_type = p.flashAttn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    // One pool of KV cells for all sequences: a long line may use the whole context.
    cparams.kv_unified = true;
    cparams.no_perf = true;
    cparams.abort_callback = AbortRequested;
    cparams.abort_callback_data = &state_->abort;

    TakeLastLlamaError();
    try {
        llama_context * ctx = llama_init_from_model(state_->model->model.get(), cparams);
        if (ctx == nullptr) {
            std::string why = TakeLastLlamaError();
            Fail(code::kContextCreate, "llama.cpp could not create a context" + (why.empty() ? "" : ": " + why));
            return;
        }
        state_->ctx.reset(ctx);
        if (llama_pooling_type(ctx) != LLAMA_POOLING_TYPE_LAST) {
            Fail(code::kContextCreate, "llama.cpp did not enable LAST pooling on the context");
            return;
        }
        state_->batch = std::make_unique<Batch>(static_cast<int32_t>(p.nBatch));
    } catch (const std::bad_alloc &) {
        Fail(code::kOutOfMemory, "Out of memory while creating the context");
    } catch (const std::exception & e) {
        Fail(code::kContextCreate, std::string("llama.cpp could not create a context: ") + e.what());
    }
}

}  // namespace logtriage
