// SPDX-License-Identifier: MIT
// Model: a loaded llama_model (weights + vocab). Contexts share ownership of the handle, so the
// weights outlive a disposed Model while a Context or a running worker still uses them.
#pragma once

#include <llama-cpp.h>
#include <napi.h>

#include <atomic>
#include <memory>

namespace logtriage {

struct ModelHandle {
    llama_model_ptr model;
    const llama_vocab * vocab = nullptr;
    int64_t reportedBytes = 0;  // what we told V8 through AdjustExternalMemory
    uint64_t releasedBytes = 0;  // mapped pages handed back after load (MappedPages.h)

    ModelHandle() { live++; }
    ~ModelHandle() { live--; }
    ModelHandle(const ModelHandle &) = delete;
    ModelHandle & operator=(const ModelHandle &) = delete;

    // Handles not yet freed, across all environments (worker_threads): a leak check.
    static inline std::atomic<int64_t> live{ 0 };
};

class Model : public Napi::ObjectWrap<Model> {
  public:
    static Napi::Function Init(Napi::Env env);
    // Wraps a loaded handle into a JS Model (main thread only).
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelHandle> handle);

    explicit Model(const Napi::CallbackInfo & info);
    ~Model() override;

    // NULL after dispose().
    std::shared_ptr<ModelHandle> Handle() const { return handle_; }

  private:
    // load(path: string, { gpuLayers: number, useMmap: boolean, device?: string, releaseSpans?: [start, end][] }) -> Promise<Model>
    // releaseSpans: file offsets whose mapped pages are handed back after load (MappedPages.h).
    static Napi::Value JS_load(const Napi::CallbackInfo & info);
    // tokenize(texts: string[], parseSpecial: boolean) -> Promise<{ tokens: Int32Array, offsets: Uint32Array }>
    // offsets has texts.length + 1 entries; text i owns tokens[offsets[i], offsets[i+1]).
    Napi::Value JS_tokenize(const Napi::CallbackInfo & info);
    // info() -> { nEmbd, nLayer, nCtxTrain, nParams, sizeBytes, description, nVocab, controlTokens: [id, text][], releasedBytes }
    Napi::Value JS_info(const Napi::CallbackInfo & info);
    // dispose() -> Promise<void>; idempotent. Weights are freed once no Context holds them.
    Napi::Value JS_dispose(const Napi::CallbackInfo & info);

    void Release();

    std::shared_ptr<ModelHandle> handle_;
};

}  // namespace logtriage
