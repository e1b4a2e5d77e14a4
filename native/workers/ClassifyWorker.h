// SPDX-License-Identifier: MIT
// Runs one classification batch: packs sequences into llama_decode calls (one seq id per line,
// within n_batch tokens and n_seq_max sequences), takes each line's last-token hidden state
// (HiddenCapture) and applies the head. A line longer than n_batch is decoded alone, in n_batch
// chunks over its KV cells.
#pragma once

#include "../Context.h"
#include "../common.h"

#include <vector>

namespace logtriage {

class ClassifyWorker : public PromiseWorker {
  public:
    ClassifyWorker(Napi::Env env, std::shared_ptr<ContextState> state, std::vector<llama_token> tokens, std::vector<uint32_t> offsets)
        : PromiseWorker(env, "logtriage:classify"), state_(std::move(state)), tokens_(std::move(tokens)), offsets_(std::move(offsets)) {}

    void Execute() override;
    Napi::Value Resolve() override;

  private:
    bool Validate();
    bool Decode();
    bool ReadPending();
    bool ClassifyLongSequence(uint32_t seq);

    std::shared_ptr<ContextState> state_;
    std::vector<llama_token> tokens_;
    std::vector<uint32_t> offsets_;
    std::vector<uint32_t> pending_;  // sequences in the current batch, by batch seq id
    std::vector<float> logits_;
};

}  // namespace logtriage
