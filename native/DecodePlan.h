// SPDX-License-Identifier: MIT
// Plans how one classify() call's lines become llama_decode calls.
//
// With prefix sharing, the lines are sorted by their tokens and each decode is a token trie:
// a token that several lines share at the same position (the same prefix up to it) is decoded
// once, carrying the sequence ids of every line below it, so its KV cells serve all of them
// (llama.cpp allows a token in several sequences with a unified KV cache). Only trie leaves
// need a sequence id; a line that ends inside another line's path (a prefix of it, or an exact
// duplicate) just flags that node as an output. Without sharing, every line is its own chain
// in input order, which is what llama.cpp's examples/embedding does.
#pragma once

#include <llama.h>

#include <cstdint>
#include <vector>

namespace logtriage {

struct DecodeNode {
    llama_token token;
    llama_pos pos;
    int32_t parent;                  // index in DecodeGroup::nodes, -1 at position 0
    bool output = false;             // some line ends here
    std::vector<llama_seq_id> seqs;  // every leaf sequence whose path passes here
};

struct LineOutput {
    uint32_t line;  // index of the line in the classify() call
    uint32_t node;  // node holding its last token (for a long line: its token count - 1)
};

struct DecodeGroup {
    // Parents come before children, so each sequence's positions increase in batch order.
    std::vector<DecodeNode> nodes;
    std::vector<LineOutput> outputs;
    // A single line longer than n_batch: decoded alone in n_batch chunks; `nodes` is empty.
    bool longLine = false;
};

struct DecodePlan {
    std::vector<DecodeGroup> groups;
    uint64_t tokensIn = 0;       // tokens of all lines
    uint64_t tokensDecoded = 0;  // tokens the plan decodes
};

// offsets: line i is tokens[offsets[i], offsets[i+1]); lines must be non-empty.
// Each group has at most nBatch nodes and nSeqMax leaf sequences.
DecodePlan PlanDecodes(const std::vector<llama_token> & tokens, const std::vector<uint32_t> & offsets, uint32_t nBatch,
                       uint32_t nSeqMax, bool sharePrefixes);

}  // namespace logtriage
