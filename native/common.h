// SPDX-License-Identifier: MIT
// Shared helpers: error codes that cross the boundary, and the promise-returning worker base.
#pragma once

#include <napi.h>

#include <string>
#include <utility>

namespace logtriage {

// Codes match src/engine/native.ts, which maps each one to a typed JS error class.
namespace code {
constexpr const char * kInvalidArgument = "INVALID_ARGUMENT";
constexpr const char * kModelLoad       = "MODEL_LOAD";
constexpr const char * kContextCreate   = "CONTEXT_CREATE";
constexpr const char * kDisposed        = "DISPOSED";
constexpr const char * kKvSlot          = "KV_SLOT";        // llama_decode returned 1
constexpr const char * kAborted         = "ABORTED";        // llama_decode returned 2
constexpr const char * kInvalidBatch    = "INVALID_BATCH";  // llama_decode returned -1
constexpr const char * kDecodeFatal     = "DECODE_FATAL";   // llama_decode returned < -1
constexpr const char * kNoEmbedding     = "NO_EMBEDDING";   // llama_get_embeddings_seq returned NULL
constexpr const char * kTokenize        = "TOKENIZE";
constexpr const char * kQuantize        = "QUANTIZE";
constexpr const char * kOutOfMemory     = "OUT_OF_MEMORY";
}  // namespace code

inline Napi::Error MakeError(Napi::Env env, const std::string & errCode, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, errCode));
    return err;
}

// Throws a coded error into JS and returns undefined; use as `return ThrowError(...)`.
inline Napi::Value ThrowError(Napi::Env env, const std::string & errCode, const std::string & message) {
    MakeError(env, errCode, message).ThrowAsJavaScriptException();
    return env.Undefined();
}

// The last error llama.cpp logged on this thread, so load failures can say why.
std::string TakeLastLlamaError();

// False once the environment is being torn down (a worker_thread was terminated): V8 runs no
// more JS, so napi calls that may run it (napi_strict_equals among them) fail with
// napi_pending_exception, as would building a result or settling a promise.
inline bool CanRunJs(Napi::Env env) {
    napi_value undefined = nullptr;
    bool same = false;
    return napi_get_undefined(env, &undefined) == napi_ok && napi_strict_equals(env, undefined, undefined, &same) == napi_ok;
}

// An AsyncWorker that settles a promise. Execute() sees only C++ data captured on the main
// thread; Resolve() builds the JS result on the main thread. Subclasses call Fail(code, msg).
class PromiseWorker : public Napi::AsyncWorker {
  public:
    explicit PromiseWorker(Napi::Env env, const char * name)
        : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

    Napi::Promise Promise() { return deferred_.Promise(); }

    // A worker_thread terminated mid-call still finishes this work while its environment is
    // freed; nobody can await the promise then, and trying to settle it is a fatal error.
    void OnWorkComplete(Napi::Env env, napi_status status) override {
        if (CanRunJs(env)) {
            Napi::AsyncWorker::OnWorkComplete(env, status);
        } else {
            Destroy();
        }
    }

  protected:
    void Fail(std::string errCode, std::string message) {
        errorCode_ = std::move(errCode);
        SetError(message);
    }

    virtual Napi::Value Resolve() { return Env().Undefined(); }

    void OnOK() override { deferred_.Resolve(Resolve()); }

    void OnError(const Napi::Error & e) override {
        deferred_.Reject(MakeError(Env(), errorCode_, e.Message()).Value());
    }

  private:
    Napi::Promise::Deferred deferred_;
    std::string errorCode_ = code::kDecodeFatal;
};

}  // namespace logtriage
