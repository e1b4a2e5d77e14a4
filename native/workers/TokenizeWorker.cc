// SPDX-License-Identifier: MIT
#include "TokenizeWorker.h"

#include <climits>
#include <cstring>

namespace logtriage {

TokenizeWorker::TokenizeWorker(Napi::Env env, std::shared_ptr<ModelHandle> model, std::vector<std::string> texts, bool parseSpecial)
    : PromiseWorker(env, "logtriage:tokenize"), model_(std::move(model)), texts_(std::move(texts)), parseSpecial_(parseSpecial) {}

void TokenizeWorker::Execute() {
    offsets_.reserve(texts_.size() + 1);
    offsets_.push_back(0);
    std::vector<llama_token> buf;
    for (size_t i = 0; i < texts_.size(); i++) {
        const std::string & text = texts_[i];
        if (text.size() > static_cast<size_t>(INT32_MAX / 2)) {
            Fail(code::kTokenize, "text " + std::to_string(i) + " is too large to tokenize");
            return;
        }
        // Byte-level BPE never yields more tokens than bytes (+ a little slack for specials).
        buf.resize(text.size() + 8);
        int32_t n = llama_tokenize(model_->vocab, text.data(), static_cast<int32_t>(text.size()), buf.data(),
                                   static_cast<int32_t>(buf.size()), /*add_special*/ false, parseSpecial_);
        if (n < 0 && n != INT32_MIN) {
            buf.resize(static_cast<size_t>(-n));
            n = llama_tokenize(model_->vocab, text.data(), static_cast<int32_t>(text.size()), buf.data(),
                               static_cast<int32_t>(buf.size()), false, parseSpecial_);
        }
        if (n < 0) {
            Fail(code::kTokenize, "llama_tokenize failed on text " + std::to_string(i));
            return;
        }
        tokens_.insert(tokens_.end(), buf.begin(), buf.begin() + n);
        offsets_.push_back(static_cast<uint32_t>(tokens_.size()));
    }
}

Napi::Value TokenizeWorker::Resolve() {
    Napi::Env env = Env();
    auto tokens = Napi::Int32Array::New(env, tokens_.size());
    if (!tokens_.empty()) {
        std::memcpy(tokens.Data(), tokens_.data(), tokens_.size() * sizeof(llama_token));
    }
    auto offsets = Napi::Uint32Array::New(env, offsets_.size());
    std::memcpy(offsets.Data(), offsets_.data(), offsets_.size() * sizeof(uint32_t));
    Napi::Object out = Napi::Object::New(env);
    out.Set("tokens", tokens);
    out.Set("offsets", offsets);
    return out;
}

}  // namespace logtriage
