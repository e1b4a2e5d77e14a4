// SPDX-License-Identifier: MIT
// Allocates the llama_context (KV cache, compute buffers) off the JS thread.
#pragma once

#include "../Context.h"
#include "../common.h"

namespace logtriage {

class CreateContextWorker : public PromiseWorker {
  public:
    CreateContextWorker(Napi::Env env, std::shared_ptr<ContextState> state)
        : PromiseWorker(env, "logtriage:createContext"), state_(std::move(state)) {}

    void Execute() override;
    Napi::Value Resolve() override { return Context::NewInstance(Env(), std::move(state_)); }

  private:
    std::shared_ptr<ContextState> state_;
};

}  // namespace logtriage
