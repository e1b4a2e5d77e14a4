// SPDX-License-Identifier: MIT
#include "Context.h"

#include "AddonData.h"
#include "common.h"
#include "workers/ClassifyWorker.h"
#include "workers/CreateContextWorker.h"
#include "workers/ReleaseWorker.h"

#include <cstring>
#include <string>

namespace logtriage {

void Head::Apply(const float * hidden, float * logits) const {
    for (int32_t l = 0; l < nLabels; l++) {
        const float * row = weight.data() + static_cast<size_t>(l) * nEmbd;
        double acc = bias.empty() ? 0.0 : bias[l];
        for (int32_t j = 0; j < nEmbd; j++) {
            acc += static_cast<double>(row[j]) * hidden[j];
        }
        logits[l] = static_cast<float>(acc);
    }
}

Napi::Function Context::Init(Napi::Env env) {
    return DefineClass(env, "Context", {
        StaticMethod<&Context::JS_create>("create"),
        InstanceMethod<&Context::JS_classify>("classify"),
        InstanceMethod<&Context::JS_embed>("embed"),
        InstanceMethod<&Context::JS_info>("info"),
        InstanceMethod<&Context::JS_dispose>("dispose"),
    });
}

Napi::Object Context::NewInstance(Napi::Env env, std::shared_ptr<ContextState> state) {
    auto * boxed = new std::shared_ptr<ContextState>(std::move(state));
    auto external = Napi::External<std::shared_ptr<ContextState>>::New(env, boxed,
        [](Napi::Env, std::shared_ptr<ContextState> * p) { delete p; });
    return env.GetInstanceData<AddonData>()->contextConstructor.New({ external });
}

Context::Context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Context>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        Napi::TypeError::New(info.Env(), "Context cannot be constructed directly: use Context.create(model, options)")
            .ThrowAsJavaScriptException();
        return;
    }
    // Move, not copy: the External's copy would keep the context alive until GC.
    state_ = std::move(*info[0].As<Napi::External<std::shared_ptr<ContextState>>>().Data());
}

Context::~Context() {
    if (state_) {
        state_->abort = true;
    }
}

static bool ReadUint(Napi::Object opts, const char * key, uint32_t & out) {
    Napi::Value v = opts.Get(key);
    if (!v.IsNumber()) {
        return false;
    }
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= 1e7)) {
        return false;
    }
    out = static_cast<uint32_t>(d);
    return true;
}

Napi::Value Context::JS_create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
        return ThrowError(env, code::kInvalidArgument, "create(model: Model, options: object) expected");
    }
    Napi::Object modelObj = info[0].As<Napi::Object>();
    if (!modelObj.InstanceOf(env.GetInstanceData<AddonData>()->modelConstructor.Value())) {
        return ThrowError(env, code::kInvalidArgument, "create: first argument is not a Model");
    }
    std::shared_ptr<ModelHandle> model = Model::Unwrap(modelObj)->Handle();
    if (!model) {
        return ThrowError(env, code::kDisposed, "The model has been disposed");
    }

    Napi::Object opts = info[1].As<Napi::Object>();
    auto state = std::make_shared<ContextState>();
    state->model = model;
    ContextParams & p = state->params;
    uint32_t threads = 0;
    uint32_t nLabels = 0;
    if (!ReadUint(opts, "nCtx", p.nCtx) || !ReadUint(opts, "nBatch", p.nBatch) || !ReadUint(opts, "nUbatch", p.nUbatch) ||
        !ReadUint(opts, "nSeqMax", p.nSeqMax) || !ReadUint(opts, "threads", threads) || !ReadUint(opts, "nLabels", nLabels)) {
        return ThrowError(env, code::kInvalidArgument, "create: nCtx, nBatch, nUbatch, nSeqMax, threads and nLabels must be positive integers");
    }
    p.threads = static_cast<int32_t>(threads);
    state->threads = p.threads;
    state->head.nLabels = static_cast<int32_t>(nLabels);
    Napi::Value flashAttn = opts.Get("flashAttn");
    if (flashAttn.IsString() && flashAttn.As<Napi::String>().Utf8Value() == "auto") {
        p.flashAttn = LLAMA_FLASH_ATTN_TYPE_AUTO;
    } else if (flashAttn.IsBoolean() || flashAttn.IsUndefined()) {
        p.flashAttn = flashAttn.ToBoolean().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    } else {
        return ThrowError(env, code::kInvalidArgument, "create: flashAttn must be true, false or 'auto'");
    }
    p.sharePrefixes = opts.Get("sharePrefixes").IsUndefined() || opts.Get("sharePrefixes").ToBoolean().Value();
    Napi::Value cacheCells = opts.Get("prefixCacheCells");
    if (!cacheCells.IsUndefined()) {
        const double d = cacheCells.IsNumber() ? cacheCells.As<Napi::Number>().DoubleValue() : -1;
        if (!(d >= 0 && d <= 1e7 && d == static_cast<double>(static_cast<uint32_t>(d)))) {
            return ThrowError(env, code::kInvalidArgument, "create: prefixCacheCells must be a non-negative integer");
        }
        p.prefixCacheCells = static_cast<uint32_t>(d);
    }
    const std::string kvType = opts.Get("kvType").IsString() ? opts.Get("kvType").As<Napi::String>().Utf8Value() : "f16";
    if (kvType == "f32") {
        p.kvType = GGML_TYPE_F32;
    } else if (kvType == "f16") {
        p.kvType = GGML_TYPE_F16;
    } else if (kvType == "q8_0") {
        p.kvType = GGML_TYPE_Q8_0;
    } else {
        return ThrowError(env, code::kInvalidArgument, "create: kvType must be 'f32', 'f16' or 'q8_0'");
    }
    // nSeqMax > nBatch would let a decode hold more outputs than llama.cpp reserved (it asserts).
    if (p.nBatch > p.nCtx || p.nUbatch > p.nBatch || p.nSeqMax > p.nBatch || p.nSeqMax > llama_max_parallel_sequences()) {
        return ThrowError(env, code::kInvalidArgument, "create: need nUbatch <= nBatch <= nCtx, nSeqMax <= nBatch and nSeqMax <= " +
                          std::to_string(llama_max_parallel_sequences()));
    }

    Head & head = state->head;
    head.nEmbd = llama_model_n_embd_out(model->model.get());
    if (!opts.Get("head").IsTypedArray() || opts.Get("head").As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        return ThrowError(env, code::kInvalidArgument, "create: head must be a Float32Array");
    }
    Napi::Float32Array weight = opts.Get("head").As<Napi::Float32Array>();
    if (weight.ElementLength() != static_cast<size_t>(head.nLabels) * head.nEmbd) {
        return ThrowError(env, code::kInvalidArgument, "create: head has " + std::to_string(weight.ElementLength()) +
                          " values, expected nLabels x n_embd = " + std::to_string(head.nLabels) + " x " + std::to_string(head.nEmbd));
    }
    head.weight.assign(weight.Data(), weight.Data() + weight.ElementLength());
    Napi::Value bias = opts.Get("bias");
    if (!bias.IsUndefined() && !bias.IsNull()) {
        if (!bias.IsTypedArray() || bias.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
            bias.As<Napi::Float32Array>().ElementLength() != static_cast<size_t>(head.nLabels)) {
            return ThrowError(env, code::kInvalidArgument, "create: bias must be a Float32Array of nLabels values");
        }
        Napi::Float32Array b = bias.As<Napi::Float32Array>();
        head.bias.assign(b.Data(), b.Data() + b.ElementLength());
    }

    auto * worker = new CreateContextWorker(env, std::move(state));
    worker->Queue();
    return worker->Promise();
}

Napi::Value Context::JS_classify(const Napi::CallbackInfo & info) {
    return Run(info, false);
}

Napi::Value Context::JS_embed(const Napi::CallbackInfo & info) {
    return Run(info, true);
}

Napi::Value Context::Run(const Napi::CallbackInfo & info, bool hidden) {
    Napi::Env env = info.Env();
    const char * name = hidden ? "embed" : "classify";
    if (!state_ || state_->abort) {
        return ThrowError(env, code::kDisposed, "The context has been disposed");
    }
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
        return ThrowError(env, code::kInvalidArgument, std::string(name) + "(tokens: Int32Array, offsets: Uint32Array) expected");
    }
    int32_t threads = 0;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
        const double d = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
        if (!(d >= 1 && d <= 1024 && d == static_cast<double>(static_cast<int32_t>(d)))) {
            return ThrowError(env, code::kInvalidArgument, std::string(name) + ": threads must be an integer from 1 to 1024");
        }
        threads = static_cast<int32_t>(d);
    }
    Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
    Napi::Uint32Array offsets = info[1].As<Napi::Uint32Array>();
    std::vector<llama_token> tokenCopy(tokens.Data(), tokens.Data() + tokens.ElementLength());
    std::vector<uint32_t> offsetCopy(offsets.Data(), offsets.Data() + offsets.ElementLength());
    auto * worker = new ClassifyWorker(env, state_, std::move(tokenCopy), std::move(offsetCopy), threads,
                                       hidden ? ClassifyWorker::Output::kHidden : ClassifyWorker::Output::kLogits);
    worker->Queue();
    return worker->Promise();
}

Napi::Value Context::JS_info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!state_) {
        return ThrowError(env, code::kDisposed, "The context has been disposed");
    }
    Napi::Object out = Napi::Object::New(env);
    const ContextParams & p = state_->params;
    out.Set("nCtx", p.nCtx);
    out.Set("nBatch", p.nBatch);
    out.Set("nUbatch", p.nUbatch);
    out.Set("nSeqMax", p.nSeqMax);
    out.Set("threads", state_->threads.load());
    out.Set("nLabels", state_->head.nLabels);
    out.Set("flashAttn", llama_flash_attn_type_name(p.flashAttn));
    out.Set("kvType", ggml_type_name(p.kvType));
    out.Set("sharePrefixes", p.sharePrefixes);
    out.Set("tokensIn", static_cast<double>(state_->tokensIn.load()));
    out.Set("tokensDecoded", static_cast<double>(state_->tokensDecoded.load()));
    out.Set("tokensReused", static_cast<double>(state_->tokensReused.load()));
    out.Set("decodes", static_cast<double>(state_->decodes.load()));
    out.Set("prefixCacheCells", state_->prefixCache ? state_->prefixCache->Budget() : 0);
    out.Set("prefixCacheHeld", state_->cachedCells.load());
    return out;
}

Napi::Value Context::JS_dispose(const Napi::CallbackInfo & info) {
    if (state_) {
        state_->abort = true;
    }
    auto * worker = new ReleaseWorker<ContextState>(info.Env(), std::move(state_));
    state_.reset();
    worker->Queue();
    return worker->Promise();
}

}  // namespace logtriage
