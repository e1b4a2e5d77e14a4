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

bool ClassifyWorker::ApplyHead(const DecodeGroup & group, const std::vector<uint32_t> & rowOfNode) {
    const Head & head = state_->head;
    const std::vector<float> & rows = state_->capture.rows;
    const size_t nRows = rows.size() / static_cast<size_t>(head.nEmbd);
    for (const LineOutput & out : group.outputs) {
        const uint32_t row = rowOfNode[out.node];
        if (row >= nRows) {
            Fail(code::kNoEmbedding, "captured " + std::to_string(nRows) + " hidden states, needed row " + std::to_string(row));
            return false;
        }
        head.Apply(rows.data() + static_cast<size_t>(row) * head.nEmbd, logits_.data() + static_cast<size_t>(out.line) * head.nLabels);
    }
    return true;
}

bool ClassifyWorker::RunGroup(const DecodeGroup & group) {
    Batch & batch = *state_->batch;
    batch.Clear();
    // Outputs come back in batch order.
    std::vector<uint32_t> rowOfNode(group.nodes.size(), 0);
    uint32_t outputs = 0;
    for (size_t i = 0; i < group.nodes.size(); i++) {
        const DecodeNode & node = group.nodes[i];
        batch.Add(node.token, node.pos, node.seqs, node.output);
        if (node.output) {
            rowOfNode[i] = outputs++;
        }
    }
    llama_memory_clear(llama_get_memory(state_->ctx.get()), true);
    state_->capture.Reset();
    if (!Decode()) {
        return false;
    }
    if (state_->capture.rows.size() != static_cast<size_t>(outputs) * state_->head.nEmbd) {
        Fail(code::kNoEmbedding, "captured " + std::to_string(state_->capture.rows.size() / state_->head.nEmbd) +
             " hidden states for " + std::to_string(outputs) + " outputs");
        return false;
    }
    return ApplyHead(group, rowOfNode);
}

bool ClassifyWorker::RunLongLine(const DecodeGroup & group) {
    Batch & batch = *state_->batch;
    const uint32_t line = group.outputs.front().line;
    const uint32_t begin = offsets_[line];
    const uint32_t len = offsets_[line + 1] - begin;
    llama_memory_clear(llama_get_memory(state_->ctx.get()), true);
    state_->capture.Reset();
    for (uint32_t start = 0; start < len; start += static_cast<uint32_t>(batch.Capacity())) {
        batch.Clear();
        for (uint32_t k = start; k < len && batch.Size() < batch.Capacity(); k++) {
            batch.Add(tokens_[begin + k], static_cast<llama_pos>(k), 0, k + 1 == len);
        }
        if (!Decode()) {
            return false;
        }
    }
    // The only output is the last token's: row 0.
    std::vector<uint32_t> rowOfNode(len, 0);
    return ApplyHead(group, rowOfNode);
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
        const ContextParams & p = state_->params;
        const uint32_t nSeq = static_cast<uint32_t>(offsets_.size() - 1);
        logits_.assign(static_cast<size_t>(nSeq) * state_->head.nLabels, 0.0f);
        const DecodePlan plan = PlanDecodes(tokens_, offsets_, static_cast<uint32_t>(state_->batch->Capacity()), p.nSeqMax, p.sharePrefixes);
        for (const DecodeGroup & group : plan.groups) {
            if (!(group.longLine ? RunLongLine(group) : RunGroup(group))) {
                return;
            }
        }
        state_->tokensIn += plan.tokensIn;
        state_->tokensDecoded += plan.tokensDecoded;
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
