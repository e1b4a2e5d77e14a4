// SPDX-License-Identifier: MIT
// Per-environment state (the addon is context-aware: each worker_thread gets its own).
#pragma once

#include <napi.h>

namespace logtriage {

struct AddonData {
    Napi::FunctionReference modelConstructor;
    Napi::FunctionReference contextConstructor;
};

}  // namespace logtriage
