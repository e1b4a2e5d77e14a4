// SPDX-License-Identifier: MIT
// The one list of tensors a logtriage qwen2 GGUF holds, with their HuggingFace names and shapes.
// The converter checks checkpoints against it and the validator checks GGUF files against it, so
// the two cannot drift. It mirrors llama.cpp's qwen2 loader (src/models/qwen2.cpp), which
// rejects any tensor it did not ask for ("wrong number of tensors").

export interface Qwen2Dims {
  readonly nEmbd: number;
  readonly nLayers: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nFf: number;
  readonly nVocab: number;
}

export interface Qwen2TensorSpec {
  readonly hfName: string;
  readonly ggufName: string;
  /** PyTorch order (outermost first); GGUF stores it reversed as ggml `ne`. */
  readonly shape: readonly number[];
}

export function qwen2TensorSpecs(dims: Qwen2Dims): Qwen2TensorSpec[] {
  const { nEmbd, nLayers, nHead, nHeadKv, nFf, nVocab } = dims;
  const nEmbdKv = (nEmbd / nHead) * nHeadKv;
  const specs: Qwen2TensorSpec[] = [{ hfName: 'model.embed_tokens.weight', ggufName: 'token_embd.weight', shape: [nVocab, nEmbd] }];
  for (let i = 0; i < nLayers; i++) {
    const hf = `model.layers.${i}`;
    const blk = `blk.${i}`;
    specs.push(
      { hfName: `${hf}.input_layernorm.weight`, ggufName: `${blk}.attn_norm.weight`, shape: [nEmbd] },
      { hfName: `${hf}.self_attn.q_proj.weight`, ggufName: `${blk}.attn_q.weight`, shape: [nEmbd, nEmbd] },
      { hfName: `${hf}.self_attn.q_proj.bias`, ggufName: `${blk}.attn_q.bias`, shape: [nEmbd] },
      { hfName: `${hf}.self_attn.k_proj.weight`, ggufName: `${blk}.attn_k.weight`, shape: [nEmbdKv, nEmbd] },
      { hfName: `${hf}.self_attn.k_proj.bias`, ggufName: `${blk}.attn_k.bias`, shape: [nEmbdKv] },
      { hfName: `${hf}.self_attn.v_proj.weight`, ggufName: `${blk}.attn_v.weight`, shape: [nEmbdKv, nEmbd] },
      { hfName: `${hf}.self_attn.v_proj.bias`, ggufName: `${blk}.attn_v.bias`, shape: [nEmbdKv] },
      { hfName: `${hf}.self_attn.o_proj.weight`, ggufName: `${blk}.attn_output.weight`, shape: [nEmbd, nEmbd] },
      { hfName: `${hf}.post_attention_layernorm.weight`, ggufName: `${blk}.ffn_norm.weight`, shape: [nEmbd] },
      { hfName: `${hf}.mlp.gate_proj.weight`, ggufName: `${blk}.ffn_gate.weight`, shape: [nFf, nEmbd] },
      { hfName: `${hf}.mlp.up_proj.weight`, ggufName: `${blk}.ffn_up.weight`, shape: [nFf, nEmbd] },
      { hfName: `${hf}.mlp.down_proj.weight`, ggufName: `${blk}.ffn_down.weight`, shape: [nEmbd, nFf] },
    );
  }
  specs.push({ hfName: 'model.norm.weight', ggufName: 'output_norm.weight', shape: [nEmbd] });
  return specs;
}
