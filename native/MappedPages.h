// SPDX-License-Identifier: MIT
// Hands back the mapped pages of model file spans the decode reads only in part. llama.cpp maps
// the GGUF with MAP_POPULATE, so every page of it counts in the process's resident set, while
// the token embedding is read a row per token in use (the vocabulary of log lines is a sliver of
// Qwen2's 151,936 tokens) and an untied output matrix not at all (the decode stops at the final
// norm; Context.h). Released pages stay in the page cache and fault back in when read.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace logtriage {

// [start, end) file offsets.
using FileSpan = std::pair<uint64_t, uint64_t>;

// madvise(MADV_DONTNEED) on the whole pages of `spans` inside this process's file-backed shared
// mappings of `path` (matched by device and inode; anonymous memory is never touched). Returns
// the bytes advised; 0 where nothing is mapped (a model read into memory) and off Linux.
uint64_t ReleaseMappedPages(const std::string & path, const std::vector<FileSpan> & spans);

}  // namespace logtriage
