// SPDX-License-Identifier: MIT
// Tokenizes many texts off the JS thread with llama.cpp's tokenizer (no BOS/EOS added).
#pragma once

#include "../Model.h"
#include "../common.h"

#include <string>
#include <vector>

namespace logtriage {

class TokenizeWorker : public PromiseWorker {
  public:
    TokenizeWorker(Napi::Env env, std::shared_ptr<ModelHandle> model, std::vector<std::string> texts, bool parseSpecial);

    void Execute() override;
    Napi::Value Resolve() override;

  private:
    std::shared_ptr<ModelHandle> model_;
    std::vector<std::string> texts_;
    bool parseSpecial_;
    std::vector<llama_token> tokens_;
    std::vector<uint32_t> offsets_;
};

}  // namespace logtriage
