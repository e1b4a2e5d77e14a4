// SPDX-License-Identifier: MIT
// RAII owner of a llama_batch of up to `capacity` tokens, each in up to `nSeqMax` sequences.
#pragma once

#include <llama.h>

#include <cstdint>
#include <vector>

namespace logtriage {

class Batch {
  public:
    Batch(int32_t capacity, int32_t nSeqMax) : batch_(llama_batch_init(capacity, 0, nSeqMax)), capacity_(capacity) {}
    ~Batch() { llama_batch_free(batch_); }
    Batch(const Batch &) = delete;
    Batch & operator=(const Batch &) = delete;

    void Clear() { batch_.n_tokens = 0; }

    // `output`: llama.cpp keeps this token's row through the last layer (we flag each line's last token).
    void Add(llama_token token, llama_pos pos, llama_seq_id seq, bool output) {
        const int32_t i = batch_.n_tokens++;
        batch_.token[i]     = token;
        batch_.pos[i]       = pos;
        batch_.n_seq_id[i]  = 1;
        batch_.seq_id[i][0] = seq;
        batch_.logits[i]    = output ? 1 : 0;
    }

    // A token shared by several sequences (a common prefix): its KV cell serves all of them.
    void Add(llama_token token, llama_pos pos, const std::vector<llama_seq_id> & seqs, bool output) {
        const int32_t i = batch_.n_tokens++;
        batch_.token[i]    = token;
        batch_.pos[i]      = pos;
        batch_.n_seq_id[i] = static_cast<int32_t>(seqs.size());
        for (size_t s = 0; s < seqs.size(); s++) {
            batch_.seq_id[i][s] = seqs[s];
        }
        batch_.logits[i] = output ? 1 : 0;
    }

    int32_t Size() const { return batch_.n_tokens; }
    int32_t Capacity() const { return capacity_; }
    llama_batch & Get() { return batch_; }

  private:
    llama_batch batch_;
    int32_t capacity_;
};

}  // namespace logtriage
