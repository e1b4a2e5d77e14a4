// SPDX-License-Identifier: MIT
// Runs one classification call: DecodePlan turns the lines into llama_decode calls (prefix
// tries within n_batch tokens and n_seq_max sequences), HiddenCapture takes each output's
// final-norm hidden state, and the head turns it into logits (Output::kLogits) or the state
// itself is the result (Output::kHidden: what `embed()` returns, the vector the head multiplies). A line longer than n_batch is
// decoded alone, in n_batch chunks over its KV cells. With the prefix cache, the plan's nodes
// whose cells are cached from earlier calls are not decoded, and the group's lines are cached.
#pragma once

#include "../Context.h"
#include "../DecodePlan.h"
#include "../common.h"

#include <vector>

namespace logtriage {

class ClassifyWorker : public PromiseWorker {
  public:
    // What each line's result holds: nLabels logits (head applied), or its n_embd hidden state.
    enum class Output { kLogits, kHidden };

    // threads > 0: run this call's decodes on that many threads (llama_set_n_threads), and later calls too.
    ClassifyWorker(Napi::Env env, std::shared_ptr<ContextState> state, std::vector<llama_token> tokens, std::vector<uint32_t> offsets, int32_t threads,
                   Output output = Output::kLogits)
        : PromiseWorker(env, output == Output::kHidden ? "logtriage:embed" : "logtriage:classify"), state_(std::move(state)), tokens_(std::move(tokens)),
          offsets_(std::move(offsets)), threads_(threads), output_(output) {}

    void Execute() override;
    Napi::Value Resolve() override;

  private:
    bool Validate();
    bool Decode();
    bool RunGroup(const DecodeGroup & group);
    bool RunLongLine(const DecodeGroup & group);
    // Caches the paths of the group's leaves and releases the decode's sequences.
    void KeepInCache(const DecodeGroup & group, llama_memory_t memory);
    // Writes each output line's result (logits, or its hidden state) into results_.
    bool ApplyHead(const DecodeGroup & group, const std::vector<uint32_t> & rowOfNode);
    // Floats per line in results_: nLabels or n_embd.
    size_t Width() const;

    std::shared_ptr<ContextState> state_;
    std::vector<llama_token> tokens_;
    std::vector<uint32_t> offsets_;
    std::vector<float> results_;
    int32_t threads_ = 0;
    Output output_ = Output::kLogits;
    uint64_t decoded_ = 0;  // tokens this call decoded
    uint64_t reused_ = 0;   // tokens whose cells came from the prefix cache
    uint64_t decodes_ = 0;  // llama_decode calls this call made
};

}  // namespace logtriage
