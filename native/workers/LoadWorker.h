// SPDX-License-Identifier: MIT
// Loads a GGUF model (mmap by default) off the JS thread and resolves with a Model.
#pragma once

#include "../MappedPages.h"
#include "../Model.h"
#include "../common.h"

#include <string>
#include <vector>

namespace logtriage {

class LoadWorker : public PromiseWorker {
  public:
    struct Options {
        std::string path;
        int32_t gpuLayers = 0;
        bool useMmap = true;
        std::string device;  // ggml device name to offload to; empty = CPU only
        std::vector<FileSpan> releaseSpans;  // see MappedPages.h
    };

    LoadWorker(Napi::Env env, Options options);

    void Execute() override;
    Napi::Value Resolve() override;

  private:
    Options options_;
    std::shared_ptr<ModelHandle> handle_;
};

}  // namespace logtriage
