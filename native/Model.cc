// SPDX-License-Identifier: MIT
#include "Model.h"

#include "AddonData.h"
#include "common.h"
#include "workers/LoadWorker.h"
#include "workers/ReleaseWorker.h"
#include "workers/TokenizeWorker.h"

#include <string>
#include <vector>

namespace logtriage {

Napi::Function Model::Init(Napi::Env env) {
    return DefineClass(env, "Model", {
        StaticMethod<&Model::JS_load>("load"),
        InstanceMethod<&Model::JS_tokenize>("tokenize"),
        InstanceMethod<&Model::JS_info>("info"),
        InstanceMethod<&Model::JS_dispose>("dispose"),
    });
}

Napi::Object Model::NewInstance(Napi::Env env, std::shared_ptr<ModelHandle> handle) {
    auto * boxed = new std::shared_ptr<ModelHandle>(std::move(handle));
    auto external = Napi::External<std::shared_ptr<ModelHandle>>::New(env, boxed,
        [](Napi::Env, std::shared_ptr<ModelHandle> * p) { delete p; });
    return env.GetInstanceData<AddonData>()->modelConstructor.New({ external });
}

Model::Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        Napi::TypeError::New(info.Env(), "Model cannot be constructed directly: use Model.load(path, options)")
            .ThrowAsJavaScriptException();
        return;
    }
    // Take the reference out of the External: a copy would keep the weights alive after
    // dispose() until V8 happened to collect the External.
    handle_ = std::move(*info[0].As<Napi::External<std::shared_ptr<ModelHandle>>>().Data());
    handle_->reportedBytes = static_cast<int64_t>(llama_model_size(handle_->model.get()));
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), handle_->reportedBytes);
}

Model::~Model() {
    Release();
}

void Model::Release() {
    if (!handle_) {
        return;
    }
    Napi::MemoryManagement::AdjustExternalMemory(Env(), -handle_->reportedBytes);
    handle_.reset();
}

Napi::Value Model::JS_load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
        return ThrowError(env, code::kInvalidArgument, "load(path: string, options: object) expected");
    }
    Napi::Object opts = info[1].As<Napi::Object>();
    LoadWorker::Options options;
    options.path = info[0].As<Napi::String>().Utf8Value();
    if (opts.Get("gpuLayers").IsNumber()) {
        options.gpuLayers = opts.Get("gpuLayers").As<Napi::Number>().Int32Value();
    }
    if (opts.Get("useMmap").IsBoolean()) {
        options.useMmap = opts.Get("useMmap").As<Napi::Boolean>().Value();
    }
    if (opts.Get("device").IsString()) {
        options.device = opts.Get("device").As<Napi::String>().Utf8Value();
    }
    Napi::Value spans = opts.Get("releaseSpans");
    if (!spans.IsUndefined()) {
        const char * shape = "load: releaseSpans must be an array of [start, end] file offsets with start < end";
        if (!spans.IsArray()) {
            return ThrowError(env, code::kInvalidArgument, shape);
        }
        Napi::Array list = spans.As<Napi::Array>();
        for (uint32_t i = 0; i < list.Length(); i++) {
            Napi::Value item = list.Get(i);
            Napi::Array pair = item.IsArray() ? item.As<Napi::Array>() : Napi::Array::New(env);
            const Napi::Value first = pair.Get(0u);
            const Napi::Value second = pair.Get(1u);
            if (pair.Length() != 2 || !first.IsNumber() || !second.IsNumber()) {
                return ThrowError(env, code::kInvalidArgument, shape);
            }
            const double from = first.As<Napi::Number>().DoubleValue();
            const double to = second.As<Napi::Number>().DoubleValue();
            if (!(from >= 0 && from < to && to <= 9007199254740992.0)) {
                return ThrowError(env, code::kInvalidArgument, shape);
            }
            options.releaseSpans.emplace_back(static_cast<uint64_t>(from), static_cast<uint64_t>(to));
        }
    }
    auto * worker = new LoadWorker(env, std::move(options));
    worker->Queue();
    return worker->Promise();
}

Napi::Value Model::JS_tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!handle_) {
        return ThrowError(env, code::kDisposed, "The model has been disposed");
    }
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsBoolean()) {
        return ThrowError(env, code::kInvalidArgument, "tokenize(texts: string[], parseSpecial: boolean) expected");
    }
    Napi::Array texts = info[0].As<Napi::Array>();
    std::vector<std::string> copies;
    copies.reserve(texts.Length());
    for (uint32_t i = 0; i < texts.Length(); i++) {
        Napi::Value v = texts.Get(i);
        if (!v.IsString()) {
            return ThrowError(env, code::kInvalidArgument, "tokenize: texts[" + std::to_string(i) + "] is not a string");
        }
        copies.push_back(v.As<Napi::String>().Utf8Value());
    }
    auto * worker = new TokenizeWorker(env, handle_, std::move(copies), info[1].As<Napi::Boolean>().Value());
    worker->Queue();
    return worker->Promise();
}

Napi::Value Model::JS_info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!handle_) {
        return ThrowError(env, code::kDisposed, "The model has been disposed");
    }
    const llama_model * model = handle_->model.get();
    const llama_vocab * vocab = handle_->vocab;
    char desc[256] = { 0 };
    llama_model_desc(model, desc, sizeof(desc));

    Napi::Object out = Napi::Object::New(env);
    out.Set("nEmbd", llama_model_n_embd(model));
    out.Set("nLayer", llama_model_n_layer(model));
    out.Set("nCtxTrain", llama_model_n_ctx_train(model));
    out.Set("nParams", static_cast<double>(llama_model_n_params(model)));
    out.Set("sizeBytes", static_cast<double>(llama_model_size(model)));
    out.Set("description", desc);
    const int32_t nVocab = llama_vocab_n_tokens(vocab);
    out.Set("nVocab", nVocab);

    Napi::Array control = Napi::Array::New(env);
    uint32_t n = 0;
    for (int32_t id = 0; id < nVocab; id++) {
        if (llama_vocab_get_attr(vocab, id) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED)) {
            Napi::Array pair = Napi::Array::New(env, 2);
            pair.Set(0u, id);
            pair.Set(1u, llama_vocab_get_text(vocab, id));
            control.Set(n++, pair);
        }
    }
    out.Set("controlTokens", control);
    out.Set("releasedBytes", static_cast<double>(handle_->releasedBytes));
    return out;
}

Napi::Value Model::JS_dispose(const Napi::CallbackInfo & info) {
    // The last reference may be dropped on the worker thread, so unmapping never blocks JS.
    auto * worker = new ReleaseWorker<ModelHandle>(info.Env(), handle_);
    Release();
    worker->Queue();
    return worker->Promise();
}

}  // namespace logtriage
