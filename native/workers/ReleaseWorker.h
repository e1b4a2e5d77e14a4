// SPDX-License-Identifier: MIT
// Drops one shared reference off the JS thread: freeing weights or a KV cache can take a while.
// Then, on glibc, hands the allocator's free pages back to the system (malloc_trim): once a large
// buffer has been freed, glibc serves later ones of that size from its heaps rather than mmap, and
// without the trim a model swap left ~14 MiB more resident each time (test/server/modelSwap.rss).
#pragma once

#include "../common.h"

#include <memory>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace logtriage {

template <typename T>
class ReleaseWorker : public PromiseWorker {
  public:
    ReleaseWorker(Napi::Env env, std::shared_ptr<T> target)
        : PromiseWorker(env, "logtriage:release"), target_(std::move(target)) {}

    void Execute() override {
        target_.reset();
#if defined(__GLIBC__)
        malloc_trim(0);
#endif
    }

  private:
    std::shared_ptr<T> target_;
};

}  // namespace logtriage
