// SPDX-License-Identifier: MIT
// Runs llama_model_quantize off the JS thread. GGUF metadata (labels, head) is copied as is.
#pragma once

#include "../common.h"

#include <llama.h>

#include <string>

namespace logtriage {

class QuantizeWorker : public PromiseWorker {
  public:
    QuantizeWorker(Napi::Env env, std::string input, std::string output, llama_ftype ftype, int32_t threads)
        : PromiseWorker(env, "logtriage:quantize"), input_(std::move(input)), output_(std::move(output)), ftype_(ftype), threads_(threads) {}

    void Execute() override;

  private:
    std::string input_;
    std::string output_;
    llama_ftype ftype_;
    int32_t threads_;
};

}  // namespace logtriage
