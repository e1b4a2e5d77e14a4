// SPDX-License-Identifier: MIT
// Drops one shared reference off the JS thread: freeing weights or a KV cache can take a while.
#pragma once

#include "../common.h"

#include <memory>

namespace logtriage {

template <typename T>
class ReleaseWorker : public PromiseWorker {
  public:
    ReleaseWorker(Napi::Env env, std::shared_ptr<T> target)
        : PromiseWorker(env, "logtriage:release"), target_(std::move(target)) {}

    void Execute() override { target_.reset(); }

  private:
    std::shared_ptr<T> target_;
};

}  // namespace logtriage
