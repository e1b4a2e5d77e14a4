// SPDX-License-Identifier: MIT
// PrefixCache: the KV cells of recently decoded lines, kept across classify() calls so that a new
// line decodes only what follows its longest cached prefix (SGLang's RadixAttention, vLLM's
// automatic prefix caching, for a unified llama.cpp KV cache).
//
// A token trie mirrors the cells: a node at depth d is the KV cell of its path's token at
// position d. Cells stay in llama.cpp's cache while a sequence holds them, so each trie leaf
// owns one "holder" sequence id that holds every cell on its path (a cell shared by several
// paths is held by several holders: llama.cpp's cells carry a set of sequence ids). Holders are
// seq ids above the ones a decode uses ([0, nSeqMax)): with kv_unified llama.cpp accepts any id
// below LLAMA_MAX_SEQ (256) without reserving anything per id, and no batch ever names a holder,
// so no decoded token attends to cached cells that are not its own prefix.
//
// Reusing a prefix is llama_memory_seq_cp(holder, seq, 0, depth): the cells gain the decode's
// seq id, no data moves. Eviction is LRU by leaf: removing a leaf's holder frees the cells no
// other holder has (its path below the nearest branch). Not thread-safe: the context mutex
// guards it.
#pragma once

#include <llama.h>

#include <cstdint>
#include <vector>

namespace logtriage {

class PrefixCache {
  public:
    static constexpr int32_t kRoot = 0;

    // budget: most cells kept (0 disables the cache); holders: seq ids [firstHolder, firstHolder + holders).
    PrefixCache(uint32_t budget, llama_seq_id firstHolder, uint32_t holders);

    void Attach(llama_memory_t memory) { memory_ = memory; }
    bool Enabled() const { return budget_ > 0 && !holderLeaf_.empty(); }
    uint32_t Budget() const { return budget_; }
    // Cells held (trie nodes other than the root).
    uint32_t Cells() const { return cells_; }

    // The child of `node` for `token`, or -1.
    int32_t Child(int32_t node, llama_token token) const;
    // Gives `seq` the cached cells of `node`'s path, positions [0, depth(node)]; `seq` must be empty.
    void CopyPath(int32_t node, llama_seq_id seq);
    // Caches path[0, len), whose cells `seq` holds at positions [0, len) (it may hold them only
    // because it reused them: they stay whether or not they are still in the trie).
    void Insert(const llama_token * path, uint32_t len, llama_seq_id seq);
    // Evicts least recently used leaves until at most `cells` cells are held.
    void EvictTo(uint32_t cells);
    // Forgets every entry and frees all cells (used before a long line takes the whole context,
    // and after a failed decode, whose KV state llama.cpp does not promise).
    void Clear();

  private:
    struct Node {
        llama_token token = 0;
        int32_t parent = -1;
        uint32_t depth = 0;  // position of its cell
        llama_seq_id holder = -1;  // leaves only
        uint64_t lastUse = 0;      // leaves only
        std::vector<int32_t> children;
    };

    int32_t NewNode(int32_t parent, llama_token token);
    // A leaf under `node` (following first children), marked used.
    int32_t TouchLeafUnder(int32_t node);
    llama_seq_id FreeHolder() const;
    bool EvictLeastRecent();
    void SetLeaf(int32_t node, llama_seq_id holder);

    llama_memory_t memory_ = nullptr;
    uint32_t budget_;
    llama_seq_id firstHolder_;
    std::vector<int32_t> holderLeaf_;  // per holder id - firstHolder_: its leaf node, or -1
    std::vector<Node> nodes_;          // nodes_[0] is the root
    std::vector<int32_t> freeNodes_;
    uint32_t cells_ = 0;
    uint64_t clock_ = 0;
};

}  // namespace logtriage
