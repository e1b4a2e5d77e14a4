// SPDX-License-Identifier: MIT
#include "PrefixCache.h"

#include <algorithm>

namespace logtriage {

PrefixCache::PrefixCache(uint32_t budget, llama_seq_id firstHolder, uint32_t holders)
    : budget_(budget), firstHolder_(firstHolder), holderLeaf_(holders, -1), nodes_(1) {}

int32_t PrefixCache::Child(int32_t node, llama_token token) const {
    for (int32_t child : nodes_[node].children) {
        if (nodes_[child].token == token) {
            return child;
        }
    }
    return -1;
}

int32_t PrefixCache::NewNode(int32_t parent, llama_token token) {
    int32_t index;
    if (freeNodes_.empty()) {
        index = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
    } else {
        index = freeNodes_.back();
        freeNodes_.pop_back();
        nodes_[index] = Node{};
    }
    Node & node = nodes_[index];
    node.token = token;
    node.parent = parent;
    node.depth = parent == kRoot ? 0 : nodes_[parent].depth + 1;
    nodes_[parent].children.push_back(index);
    cells_++;
    return index;
}

void PrefixCache::SetLeaf(int32_t node, llama_seq_id holder) {
    nodes_[node].holder = holder;
    nodes_[node].lastUse = ++clock_;
    holderLeaf_[holder - firstHolder_] = node;
}

int32_t PrefixCache::TouchLeafUnder(int32_t node) {
    while (!nodes_[node].children.empty()) {
        node = nodes_[node].children.front();
    }
    nodes_[node].lastUse = ++clock_;
    return node;
}

void PrefixCache::CopyPath(int32_t node, llama_seq_id seq) {
    const int32_t leaf = TouchLeafUnder(node);
    llama_memory_seq_cp(memory_, nodes_[leaf].holder, seq, 0, static_cast<llama_pos>(nodes_[node].depth) + 1);
}

llama_seq_id PrefixCache::FreeHolder() const {
    for (size_t i = 0; i < holderLeaf_.size(); i++) {
        if (holderLeaf_[i] < 0) {
            return firstHolder_ + static_cast<llama_seq_id>(i);
        }
    }
    return -1;
}

void PrefixCache::Insert(const llama_token * path, uint32_t len, llama_seq_id seq) {
    if (!Enabled() || len == 0) {
        return;
    }
    for (;;) {
        int32_t node = kRoot;
        uint32_t matched = 0;
        for (int32_t child; matched < len && (child = Child(node, path[matched])) >= 0; matched++) {
            node = child;
        }
        if (matched == len) {
            TouchLeafUnder(node);
            return;
        }
        llama_seq_id holder = nodes_[node].holder;
        if (holder >= 0) {
            // A leaf grows: its holder keeps its cells and takes the new ones.
            nodes_[node].holder = -1;
        } else {
            holder = FreeHolder();
            if (holder < 0) {
                // Evicting may remove `node` itself, so look the path up again.
                if (!EvictLeastRecent()) {
                    return;
                }
                continue;
            }
            if (matched > 0) {
                const int32_t leaf = TouchLeafUnder(node);
                llama_memory_seq_cp(memory_, nodes_[leaf].holder, holder, 0, static_cast<llama_pos>(matched));
            }
        }
        llama_memory_seq_cp(memory_, seq, holder, static_cast<llama_pos>(matched), static_cast<llama_pos>(len));
        for (uint32_t k = matched; k < len; k++) {
            node = NewNode(node, path[k]);
        }
        SetLeaf(node, holder);
        return;
    }
}

bool PrefixCache::EvictLeastRecent() {
    int32_t oldest = -1;
    for (int32_t leaf : holderLeaf_) {
        if (leaf >= 0 && (oldest < 0 || nodes_[leaf].lastUse < nodes_[oldest].lastUse)) {
            oldest = leaf;
        }
    }
    if (oldest < 0) {
        return false;
    }
    const llama_seq_id holder = nodes_[oldest].holder;
    llama_memory_seq_rm(memory_, holder, -1, -1);
    holderLeaf_[holder - firstHolder_] = -1;
    // The cells below the nearest branch were held by this holder alone.
    int32_t node = oldest;
    while (node != kRoot && nodes_[node].children.empty()) {
        const int32_t parent = nodes_[node].parent;
        std::vector<int32_t> & siblings = nodes_[parent].children;
        siblings.erase(std::find(siblings.begin(), siblings.end(), node));
        nodes_[node].children.clear();
        freeNodes_.push_back(node);
        cells_--;
        node = parent;
    }
    return true;
}

void PrefixCache::EvictTo(uint32_t cells) {
    while (cells_ > cells && EvictLeastRecent()) {
    }
}

void PrefixCache::Clear() {
    if (memory_ != nullptr) {
        llama_memory_clear(memory_, true);
    }
    nodes_.assign(1, Node{});
    freeNodes_.clear();
    std::fill(holderLeaf_.begin(), holderLeaf_.end(), -1);
    cells_ = 0;
}

}  // namespace logtriage
