// SPDX-License-Identifier: MIT
#include "ClassifyWorker.h"

#include <cstring>
#include <new>
#include <string>

namespace logtriage {

bool ClassifyWorker::Validate() {
    if (offsets_.empty() || offsets_.front() != 0 || offsets_.back() != tokens_.size()) {
        Fail(code::kInvalidArgument, "classify: offsets must start at 0 and end at tokens.length");
        return false;
    }
    const int32_t nVocab = llama_vocab_n_tokens(state_->model->vocab);
    for (size_t i = 0; i + 1 < offsets_.size(); i++) {
        if (offsets_[i + 1] <= offsets_[i]) {
            Fail(code::kInvalidArgument, "classify: sequence " + std::to_string(i) + " is empty or offsets are not increasing");
            return false;
        }
        if (offsets_[i + 1] - offsets_[i] > state_->params.nCtx) {
            Fail(code::kInvalidArgument, "classify: sequence " + std::to_string(i) + " has more tokens than the context (" +
                 std::to_string(state_->params.nCtx) + ")");
            return false;
        }
    }
    for (llama_token t : tokens_) {
        if (t < 0 || t >= nVocab) {
            Fail(code::kInvalidArgument, "classify: token id " + std::to_string(t) + " is outside the vocabulary");
            return false;
        }
    }
    return true;
}

bool ClassifyWorker::Decode() {
    const int32_t rc = llama_decode(state_->ctx.get(), state_->batch->Get());
    if (rc == 0 && state_->capture.failed) {
        Fail(code::kNoEmbedding, "the model's result_norm tensor is not an F32 [n_embd, n_outputs] tensor");
        return false;
    }
    switch (rc) {
        case 0: return true;
        case 1: Fail(code::kKvSlot, "llama_decode: no KV slot for the batch"); return false;
        case 2: Fail(code::kAborted, "llama_decode: aborted"); return false;
        case -1: Fail(code::kInvalidBatch, "llama_decode: invalid batch"); return false;
        default: Fail(code::kDecodeFatal, "llama_decode failed with code " + std::to_string(rc)); return false;
    }
}

bool ClassifyWorker::ReadPending() {
    const Head & head = state_->head;
    const std::vector<float> & rows = state_->capture.rows;
    if (rows.size() != pending_.size() * static_cast<size_t>(head.nEmbd)) {
        Fail(code::kNoEmbedding, "captured " + std::to_string(rows.size() / head.nEmbd) + " hidden states for " +
             std::to_string(pending_.size()) + " lines");
        return false;
    }
    // Outputs come back in batch order: one per line, at its last token.
    for (size_t s = 0; s < pending_.size(); s++) {
        head.Apply(rows.data() + s * head.nEmbd, logits_.data() + static_cast<size_t>(pending_[s]) * head.nLabels);
    }
    pending_.clear();
    state_->batch->Clear();
    return true;
}

bool ClassifyWorker::ClassifyLongSequence(uint32_t seq) {
    Batch & batch = *state_->batch;
    llama_memory_clear(llama_get_memory(state_->ctx.get()), true);
    state_->capture.Reset();
    const uint32_t begin = offsets_[seq];
    const uint32_t len = offsets_[seq + 1] - begin;
    for (uint32_t start = 0; start < len; start += static_cast<uint32_t>(batch.Capacity())) {
        batch.Clear();
        for (uint32_t k = start; k < len && batch.Size() < batch.Capacity(); k++) {
            batch.Add(tokens_[begin + k], static_cast<llama_pos>(k), 0, k + 1 == len);
        }
        if (!Decode()) {
            return false;
        }
    }
    pending_.push_back(seq);
    return ReadPending();
}

void ClassifyWorker::Execute() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->ctx || state_->abort) {
        Fail(code::kDisposed, "The context has been disposed");
        return;
    }
    if (!Validate()) {
        return;
    }
    try {
        const uint32_t nSeq = static_cast<uint32_t>(offsets_.size() - 1);
        logits_.assign(static_cast<size_t>(nSeq) * state_->head.nLabels, 0.0f);
        Batch & batch = *state_->batch;
        batch.Clear();
        pending_.clear();
        const uint32_t nBatch = static_cast<uint32_t>(batch.Capacity());

        auto flush = [&]() -> bool {
            if (pending_.empty()) {
                return true;
            }
            llama_memory_clear(llama_get_memory(state_->ctx.get()), true);
            state_->capture.Reset();
            return Decode() && ReadPending();
        };

        for (uint32_t seq = 0; seq < nSeq; seq++) {
            const uint32_t len = offsets_[seq + 1] - offsets_[seq];
            if (len > nBatch) {
                if (!flush() || !ClassifyLongSequence(seq)) {
                    return;
                }
                continue;
            }
            if (static_cast<uint32_t>(batch.Size()) + len > nBatch || pending_.size() == state_->params.nSeqMax) {
                if (!flush()) {
                    return;
                }
            }
            const llama_seq_id id = static_cast<llama_seq_id>(pending_.size());
            for (uint32_t k = 0; k < len; k++) {
                batch.Add(tokens_[offsets_[seq] + k], static_cast<llama_pos>(k), id, k + 1 == len);
            }
            pending_.push_back(seq);
        }
        flush();
    } catch (const std::bad_alloc &) {
        Fail(code::kOutOfMemory, "Out of memory during classification");
    } catch (const std::exception & e) {
        Fail(code::kDecodeFatal, std::string("classification failed: ") + e.what());
    }
}

Napi::Value ClassifyWorker::Resolve() {
    auto out = Napi::Float32Array::New(Env(), logits_.size());
    if (!logits_.empty()) {
        std::memcpy(out.Data(), logits_.data(), logits_.size() * sizeof(float));
    }
    return out;
}

}  // namespace logtriage
