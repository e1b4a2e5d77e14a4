// SPDX-License-Identifier: MIT
// Registers the addon's classes and functions; the work lives in Model, Context and workers/.
#include "AddonData.h"
#include "Context.h"
#include "Model.h"
#include "common.h"
#include "workers/QuantizeWorker.h"

#include <ggml-backend.h>
#include <llama.h>
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace logtriage {

static thread_local std::string lastLlamaError;
static bool verboseLog = false;

std::string TakeLastLlamaError() {
    std::string out;
    out.swap(lastLlamaError);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

// llama.cpp logs to stderr by default; stdout/stderr belong to our users. Keep the last error
// per thread for messages, and print everything only when LOGTRIAGE_LLAMA_LOG is set.
static void LogCallback(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR && text != nullptr) {
        if (lastLlamaError.size() > 2048) {
            lastLlamaError.clear();
        }
        lastLlamaError += text;
    }
    if (verboseLog && text != nullptr) {
        fputs(text, stderr);
    }
}

static void InitLlamaOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char * env = std::getenv("LOGTRIAGE_LLAMA_LOG");
        verboseLog = env != nullptr && std::strcmp(env, "") != 0 && std::strcmp(env, "0") != 0;
        llama_log_set(LogCallback, nullptr);
        llama_backend_init();
    });
}

// loadBackends(dir: string) -> void: loads ggml backends (best CPU variant, GPU ones) from dir
// through ggml's registry; a dir already loaded is skipped.
static Napi::Value JS_loadBackends(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        return ThrowError(env, code::kInvalidArgument, "loadBackends(dir: string) expected");
    }
    static std::mutex mutex;
    static std::set<std::string> loaded;
    const std::string dir = info[0].As<Napi::String>().Utf8Value();
    std::lock_guard<std::mutex> lock(mutex);
    if (loaded.insert(dir).second) {
        ggml_backend_load_all_from_path(dir.c_str());
    }
    return env.Undefined();
}

// loadBackend(path: string) -> { loaded: boolean, name?: string, error?: string }: loads one ggml
// backend library (a GPU package's libggml-cuda.so, say) into the registry. Failure (a missing
// driver or runtime library) is reported, never thrown: 'auto' falls back to the CPU.
static Napi::Value JS_loadBackend(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        return ThrowError(env, code::kInvalidArgument, "loadBackend(path: string) expected");
    }
    static std::mutex mutex;
    static std::map<std::string, std::string> loaded;  // path -> backend name
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    std::lock_guard<std::mutex> lock(mutex);
    Napi::Object out = Napi::Object::New(env);
    auto found = loaded.find(path);
    if (found == loaded.end()) {
        TakeLastLlamaError();
        ggml_backend_reg_t reg = ggml_backend_load(path.c_str());
        if (reg == nullptr) {
            const std::string why = TakeLastLlamaError();
            out.Set("loaded", false);
            out.Set("error", why.empty() ? "ggml_backend_load failed" : why);
            return out;
        }
        found = loaded.emplace(path, ggml_backend_reg_name(reg)).first;
    }
    out.Set("loaded", true);
    out.Set("name", found->second);
    return out;
}

// devices() -> { name, description, type: 'cpu'|'gpu'|'igpu'|'accel', backend, memoryFree, memoryTotal }[]
static Napi::Value JS_devices(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        size_t memFree = 0;
        size_t memTotal = 0;
        ggml_backend_dev_memory(dev, &memFree, &memTotal);
        const char * type = "cpu";
        switch (ggml_backend_dev_type(dev)) {
            case GGML_BACKEND_DEVICE_TYPE_GPU: type = "gpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_IGPU: type = "igpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_ACCEL: type = "accel"; break;
            default: break;
        }
        Napi::Object d = Napi::Object::New(env);
        d.Set("name", ggml_backend_dev_name(dev));
        d.Set("description", ggml_backend_dev_description(dev));
        d.Set("type", type);
        d.Set("backend", ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)));
        d.Set("memoryFree", static_cast<double>(memFree));
        d.Set("memoryTotal", static_cast<double>(memTotal));
        out.Set(static_cast<uint32_t>(i), d);
    }
    return out;
}

// quantize(input: string, output: string, type: 'f32'|'f16'|'bf16'|'q8_0'|'q4_0'|'q4_k_m', threads: number) -> Promise<void>
static Napi::Value JS_quantize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString() || !info[3].IsNumber()) {
        return ThrowError(env, code::kInvalidArgument, "quantize(input: string, output: string, type: string, threads: number) expected");
    }
    static const std::map<std::string, llama_ftype> types = {
        { "f32", LLAMA_FTYPE_ALL_F32 },        { "f16", LLAMA_FTYPE_MOSTLY_F16 },   { "bf16", LLAMA_FTYPE_MOSTLY_BF16 },
        { "q8_0", LLAMA_FTYPE_MOSTLY_Q8_0 },   { "q4_0", LLAMA_FTYPE_MOSTLY_Q4_0 }, { "q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M },
    };
    const std::string type = info[2].As<Napi::String>().Utf8Value();
    auto it = types.find(type);
    if (it == types.end()) {
        return ThrowError(env, code::kInvalidArgument, "quantize: unknown type '" + type + "'");
    }
    auto * worker = new QuantizeWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                                       it->second, info[3].As<Napi::Number>().Int32Value());
    worker->Queue();
    return worker->Promise();
}

// liveModels() -> number: models loaded and not yet freed, in every environment of the process
// (a disposed Model still counts while a Context or a running call holds its weights).
static Napi::Value JS_liveModels(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ModelHandle::live.load()));
}

// systemInfo() -> string: llama.cpp's build and CPU feature summary.
static Napi::Value JS_systemInfo(const Napi::CallbackInfo & info) {
    return Napi::String::New(info.Env(), llama_print_system_info());
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    InitLlamaOnce();
    auto * data = new AddonData();
    data->modelConstructor = Napi::Persistent(Model::Init(env));
    data->contextConstructor = Napi::Persistent(Context::Init(env));
    env.SetInstanceData(data);

    exports.Set("Model", data->modelConstructor.Value());
    exports.Set("Context", data->contextConstructor.Value());
    exports.Set("loadBackends", Napi::Function::New(env, JS_loadBackends, "loadBackends"));
    exports.Set("loadBackend", Napi::Function::New(env, JS_loadBackend, "loadBackend"));
    exports.Set("devices", Napi::Function::New(env, JS_devices, "devices"));
    exports.Set("quantize", Napi::Function::New(env, JS_quantize, "quantize"));
    exports.Set("systemInfo", Napi::Function::New(env, JS_systemInfo, "systemInfo"));
    exports.Set("liveModels", Napi::Function::New(env, JS_liveModels, "liveModels"));
    exports.Set("llamaRelease", Napi::String::New(env, LOGTRIAGE_LLAMA_RELEASE));
    return exports;
}

}  // namespace logtriage

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
    return logtriage::Init(env, exports);
}

NODE_API_MODULE(logtriage, InitAddon)
