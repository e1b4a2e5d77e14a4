// SPDX-License-Identifier: MIT
#include "QuantizeWorker.h"

#include <new>

namespace logtriage {

void QuantizeWorker::Execute() {
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.nthread = threads_;
    params.ftype = ftype_;
    TakeLastLlamaError();
    try {
        if (llama_model_quantize(input_.c_str(), output_.c_str(), &params) != 0) {
            std::string why = TakeLastLlamaError();
            Fail(code::kQuantize, "llama_model_quantize failed for '" + input_ + "'" + (why.empty() ? "" : ": " + why));
        }
    } catch (const std::bad_alloc &) {
        Fail(code::kOutOfMemory, "Out of memory while quantizing");
    } catch (const std::exception & e) {
        Fail(code::kQuantize, std::string("llama_model_quantize failed: ") + e.what());
    }
}

}  // namespace logtriage
