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
    decodes_++;
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

size_t ClassifyWorker::Width() const {
    return static_cast<size_t>(output_ == Output::kHidden ? state_->head.nEmbd : state_->head.nLabels);
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
        const float * hidden = rows.data() + static_cast<size_t>(row) * head.nEmbd;
        float * result = results_.data() + static_cast<size_t>(out.line) * Width();
        if (output_ == Output::kHidden) {
            std::memcpy(result, hidden, static_cast<size_t>(head.nEmbd) * sizeof(float));
        } else {
            head.Apply(hidden, result);
        }
    }
    return true;
}

bool ClassifyWorker::RunGroup(const DecodeGroup & group) {
    Batch & batch = *state_->batch;
    PrefixCache & cache = *state_->prefixCache;
    llama_memory_t memory = llama_get_memory(state_->ctx.get());
    // The trie node of each plan node whose cell is cached: a set closed under parents that
    // stops at outputs, since an output's hidden state has to be computed.
    std::vector<int32_t> cachedAs(group.nodes.size(), -1);
    if (cache.Enabled()) {
        for (size_t i = 0; i < group.nodes.size(); i++) {
            const DecodeNode & node = group.nodes[i];
            const int32_t parent = node.parent < 0 ? PrefixCache::kRoot : cachedAs[node.parent];
            if (parent >= 0 && !node.output) {
                cachedAs[i] = cache.Child(parent, node.token);
            }
        }
    } else {
        llama_memory_clear(memory, true);
    }
    batch.Clear();
    // Outputs come back in batch order.
    std::vector<uint32_t> rowOfNode(group.nodes.size(), 0);
    uint32_t outputs = 0;
    for (size_t i = 0; i < group.nodes.size(); i++) {
        const DecodeNode & node = group.nodes[i];
        if (cachedAs[i] >= 0) {
            reused_++;
            continue;
        }
        if (node.parent >= 0 && cachedAs[node.parent] >= 0) {
            // The first decoded node of its path: its sequences take the cached cells above it.
            for (llama_seq_id seq : node.seqs) {
                cache.CopyPath(cachedAs[node.parent], seq);
            }
        }
        batch.Add(node.token, node.pos, node.seqs, node.output);
        if (node.output) {
            rowOfNode[i] = outputs++;
        }
    }
    decoded_ += static_cast<uint64_t>(batch.Size());
    state_->capture.Reset();
    if (!Decode()) {
        return false;
    }
    if (state_->capture.rows.size() != static_cast<size_t>(outputs) * state_->head.nEmbd) {
        Fail(code::kNoEmbedding, "captured " + std::to_string(state_->capture.rows.size() / state_->head.nEmbd) +
             " hidden states for " + std::to_string(outputs) + " outputs");
        return false;
    }
    if (cache.Enabled()) {
        KeepInCache(group, memory);
    }
    return ApplyHead(group, rowOfNode);
}

void ClassifyWorker::KeepInCache(const DecodeGroup & group, llama_memory_t memory) {
    PrefixCache & cache = *state_->prefixCache;
    std::vector<bool> hasChild(group.nodes.size(), false);
    for (const DecodeNode & node : group.nodes) {
        if (node.parent >= 0) {
            hasChild[node.parent] = true;
        }
    }
    std::vector<llama_token> path;
    for (size_t i = 0; i < group.nodes.size(); i++) {
        if (hasChild[i]) {
            continue;
        }
        // A leaf has one sequence, which holds its whole path.
        path.assign(group.nodes[i].pos + 1, 0);
        for (int32_t j = static_cast<int32_t>(i); j >= 0; j = group.nodes[j].parent) {
            path[group.nodes[j].pos] = group.nodes[j].token;
        }
        cache.Insert(path.data(), static_cast<uint32_t>(path.size()), group.nodes[i].seqs.front());
    }
    // The decode's sequences end here; the cells they alone held become free.
    for (size_t i = 0; i < group.nodes.size(); i++) {
        if (!hasChild[i]) {
            llama_memory_seq_rm(memory, group.nodes[i].seqs.front(), -1, -1);
        }
    }
    cache.EvictTo(cache.Budget());
}

bool ClassifyWorker::RunLongLine(const DecodeGroup & group) {
    Batch & batch = *state_->batch;
    const uint32_t line = group.outputs.front().line;
    const uint32_t begin = offsets_[line];
    const uint32_t len = offsets_[line + 1] - begin;
    // It may need every cell of the context.
    state_->prefixCache->Clear();
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
    decoded_ += len;
    llama_memory_seq_rm(llama_get_memory(state_->ctx.get()), 0, -1, -1);
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
    if (threads_ > 0 && threads_ != state_->threads.load()) {
        llama_set_n_threads(state_->ctx.get(), threads_, threads_);
        state_->threads = threads_;
    }
    try {
        const ContextParams & p = state_->params;
        const uint32_t nSeq = static_cast<uint32_t>(offsets_.size() - 1);
        results_.assign(static_cast<size_t>(nSeq) * Width(), 0.0f);
        const DecodePlan plan = PlanDecodes(tokens_, offsets_, static_cast<uint32_t>(state_->batch->Capacity()), p.nSeqMax, p.sharePrefixes);
        for (const DecodeGroup & group : plan.groups) {
            if (!(group.longLine ? RunLongLine(group) : RunGroup(group))) {
                // llama.cpp does not promise the KV state after a failed decode.
                state_->prefixCache->Clear();
                return;
            }
        }
        state_->tokensIn += plan.tokensIn;
        state_->tokensDecoded += decoded_;
        state_->tokensReused += reused_;
        state_->decodes += decodes_;
    } catch (const std::bad_alloc &) {
        state_->prefixCache->Clear();
        Fail(code::kOutOfMemory, "Out of memory during classification");
    } catch (const std::exception & e) {
        state_->prefixCache->Clear();
        Fail(code::kDecodeFatal, std::string("classification failed: ") + e.what());
    }
    state_->cachedCells = state_->prefixCache->Cells();
}

Napi::Value ClassifyWorker::Resolve() {
    auto out = Napi::Float32Array::New(Env(), results_.size());
    if (!results_.empty()) {
        std::memcpy(out.Data(), results_.data(), results_.size() * sizeof(float));
    }
    return out;
}

}  // namespace logtriage
