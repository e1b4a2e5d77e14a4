// SPDX-License-Identifier: MIT
#include "CreateContextWorker.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace logtriage {

static bool AbortRequested(void * data) {
    return static_cast<std::atomic<bool> *>(data)->load();
}

static constexpr const char * kHiddenTensor = "result_norm";

// ggml_backend_sched eval callback: asked (ask=true) whether we want each node; for
// result_norm we do, and when it is computed (ask=false) we copy it and return false, which
// ends the graph there: the output matmul after it is never run.
static bool CaptureHidden(ggml_tensor * t, bool ask, void * data) {
    const bool isHidden = std::strcmp(t->name, kHiddenTensor) == 0;
    if (ask) {
        return isHidden;
    }
    if (!isHidden) {
        return true;
    }
    auto * capture = static_cast<HiddenCapture *>(data);
    if (t->type != GGML_TYPE_F32 || t->ne[0] != capture->nEmbd || !ggml_is_contiguous(t)) {
        capture->failed = true;
        return false;
    }
    const size_t count = static_cast<size_t>(t->ne[0]) * static_cast<size_t>(ggml_nrows(t));
    const size_t old = capture->rows.size();
    capture->rows.resize(old + count);
    ggml_backend_tensor_get(t, capture->rows.data() + old, 0, count * sizeof(float));
    return false;
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
    cparams.embeddings = false;  // see Context.h: we capture the hidden state ourselves
    cparams.cb_eval = CaptureHidden;
    cparams.cb_eval_user_data = &state_->capture;
    state_->capture.nEmbd = llama_model_n_embd_out(state_->model->model.get());
    cparams.flash_attn_type = p.flashAttn;
    cparams.type_k = p.kvType;
    cparams.type_v = p.kvType;
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
        state_->batch = std::make_unique<Batch>(static_cast<int32_t>(p.nBatch), static_cast<int32_t>(p.nSeqMax));
        // Holders take the seq ids no decode uses (see PrefixCache.h).
        const uint32_t holders = static_cast<uint32_t>(llama_max_parallel_sequences()) - p.nSeqMax;
        const uint32_t budget = holders == 0 ? 0 : std::min(p.prefixCacheCells, p.nCtx - p.nBatch);
        state_->prefixCache = std::make_unique<PrefixCache>(budget, static_cast<llama_seq_id>(p.nSeqMax), holders);
        state_->prefixCache->Attach(llama_get_memory(ctx));
    } catch (const std::bad_alloc &) {
        Fail(code::kOutOfMemory, "Out of memory while creating the context");
    } catch (const std::exception & e) {
        Fail(code::kContextCreate, std::string("llama.cpp could not create a context: ") + e.what());
    }
}

}  // namespace logtriage
