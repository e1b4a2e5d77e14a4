// SPDX-License-Identifier: MIT
#include "LoadWorker.h"

#include <ggml-backend.h>

#include <new>
#include <vector>

namespace logtriage {

LoadWorker::LoadWorker(Napi::Env env, Options options)
    : PromiseWorker(env, "logtriage:load"), options_(std::move(options)) {}

void LoadWorker::Execute() {
    llama_model_params params = llama_model_default_params();
    params.load_mode = options_.useMmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    params.n_gpu_layers = 0;

    // A NULL-terminated list. Empty for the CPU: without a list llama.cpp takes every GPU device,
    // keeps its host buffers and offloads large batches' matrix products to it (op offload).
    std::vector<ggml_backend_dev_t> devices;
    if (!options_.device.empty()) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(options_.device.c_str());
        if (dev == nullptr) {
            Fail(code::kModelLoad, "GPU device '" + options_.device + "' is not available");
            return;
        }
        devices.push_back(dev);
        params.n_gpu_layers = options_.gpuLayers;
    }
    devices.push_back(nullptr);
    params.devices = devices.data();

    TakeLastLlamaError();
    try {
        llama_model * model = llama_model_load_from_file(options_.path.c_str(), params);
        if (model == nullptr) {
            std::string why = TakeLastLlamaError();
            Fail(code::kModelLoad, "llama.cpp could not load '" + options_.path + "'" + (why.empty() ? "" : ": " + why));
            return;
        }
        handle_ = std::make_shared<ModelHandle>();
        handle_->model.reset(model);
        handle_->vocab = llama_model_get_vocab(model);
        handle_->releasedBytes = ReleaseMappedPages(options_.path, options_.releaseSpans);
    } catch (const std::bad_alloc &) {
        Fail(code::kOutOfMemory, "Out of memory while loading '" + options_.path + "'");
    } catch (const std::exception & e) {
        Fail(code::kModelLoad, std::string("llama.cpp could not load the model: ") + e.what());
    }
}

Napi::Value LoadWorker::Resolve() {
    return Model::NewInstance(Env(), std::move(handle_));
}

}  // namespace logtriage
