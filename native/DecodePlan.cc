// SPDX-License-Identifier: MIT
#include "DecodePlan.h"

#include <algorithm>
#include <numeric>

namespace logtriage {

namespace {

struct LineSpan {
    const llama_token * data;
    uint32_t size;
};

uint32_t CommonPrefix(LineSpan a, LineSpan b) {
    const uint32_t n = std::min(a.size, b.size);
    uint32_t k = 0;
    while (k < n && a.data[k] == b.data[k]) {
        k++;
    }
    return k;
}

// Gives each leaf (a node without children) its own sequence id and adds that id to every node
// on its path to the root.
void AssignSequences(DecodeGroup & group) {
    std::vector<bool> hasChild(group.nodes.size(), false);
    for (const DecodeNode & node : group.nodes) {
        if (node.parent >= 0) {
            hasChild[node.parent] = true;
        }
    }
    llama_seq_id next = 0;
    for (size_t i = 0; i < group.nodes.size(); i++) {
        if (hasChild[i]) {
            continue;
        }
        const llama_seq_id seq = next++;
        for (int32_t j = static_cast<int32_t>(i); j >= 0; j = group.nodes[j].parent) {
            group.nodes[j].seqs.push_back(seq);
        }
    }
}

}  // namespace

DecodePlan PlanDecodes(const std::vector<llama_token> & tokens, const std::vector<uint32_t> & offsets, uint32_t nBatch,
                       uint32_t nSeqMax, bool sharePrefixes) {
    const uint32_t nLines = static_cast<uint32_t>(offsets.size() - 1);
    auto span = [&](uint32_t line) {
        return LineSpan{ tokens.data() + offsets[line], offsets[line + 1] - offsets[line] };
    };

    std::vector<uint32_t> order(nLines);
    std::iota(order.begin(), order.end(), 0u);
    if (sharePrefixes) {
        // Sorted, each line's longest shared prefix with any earlier line is the one with its predecessor.
        std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
            const LineSpan x = span(a), y = span(b);
            return std::lexicographical_compare(x.data, x.data + x.size, y.data, y.data + y.size);
        });
    }

    DecodePlan plan;
    DecodeGroup group;
    uint32_t leaves = 0;
    std::vector<int32_t> prevPath;  // nodes of the previous line of this group, by position
    LineSpan prev{ nullptr, 0 };

    auto flush = [&]() {
        if (!group.nodes.empty()) {
            AssignSequences(group);
            plan.tokensDecoded += group.nodes.size();
            plan.groups.push_back(std::move(group));
        }
        group = DecodeGroup{};
        leaves = 0;
        prevPath.clear();
        prev = LineSpan{ nullptr, 0 };
    };

    for (uint32_t line : order) {
        const LineSpan cur = span(line);
        plan.tokensIn += cur.size;
        if (cur.size > nBatch) {
            flush();
            DecodeGroup alone;
            alone.longLine = true;
            alone.outputs.push_back({ line, cur.size - 1 });
            plan.tokensDecoded += cur.size;
            plan.groups.push_back(std::move(alone));
            continue;
        }
        uint32_t shared = (sharePrefixes && prev.data != nullptr) ? CommonPrefix(prev, cur) : 0;
        auto leavesWith = [&](uint32_t sharedTokens) {
            if (cur.size == sharedTokens) {
                return leaves;  // ends on an existing node
            }
            // The new chain is a leaf; the node it hangs from stops being one if it ended the previous line.
            const bool extendsPrevLeaf = sharedTokens > 0 && sharedTokens == prev.size;
            return leaves + 1 - (extendsPrevLeaf ? 1 : 0);
        };
        if (group.nodes.size() + (cur.size - shared) > nBatch || leavesWith(shared) > nSeqMax) {
            flush();
            shared = 0;
        }
        leaves = leavesWith(shared);
        prevPath.resize(shared);
        for (uint32_t k = shared; k < cur.size; k++) {
            const int32_t parent = k == 0 ? -1 : prevPath[k - 1];
            group.nodes.push_back(DecodeNode{ cur.data[k], static_cast<llama_pos>(k), parent, false, {} });
            prevPath.push_back(static_cast<int32_t>(group.nodes.size() - 1));
        }
        const uint32_t last = static_cast<uint32_t>(prevPath[cur.size - 1]);
        group.nodes[last].output = true;
        group.outputs.push_back({ line, last });
        prev = cur;
    }
    flush();
    return plan;
}

}  // namespace logtriage
