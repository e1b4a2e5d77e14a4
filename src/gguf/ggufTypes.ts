// SPDX-License-Identifier: MIT
// GGUF on-disk vocabulary shared by the writer, the reader and the validator. Numeric ids come
// from llama.cpp's ggml/include/ggml.h and gguf-py/gguf/constants.py (pinned llama.cpp of
// node-llama-cpp 3.21.1); they are part of the file format and never change meaning.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;
/** llama.cpp's GGML_MAX_NAME: tensor names must be shorter (the C struct holds the NUL). */
export const GGML_MAX_NAME = 64;
export const GGML_MAX_DIMS = 4;

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** GGUF metadata value type ids (gguf_type). */
export const GGUF_VALUE_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufScalarTypeName = Exclude<keyof typeof GGUF_VALUE_TYPE, 'array'>;

export type GgufScalarValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string };

/** Arrays are homogeneous; nested arrays are rejected by ggml, so they are not representable. */
export type GgufArrayValue =
  | { type: 'array'; itemType: 'u8'; value: Uint8Array }
  | { type: 'array'; itemType: 'i8'; value: Int8Array }
  | { type: 'array'; itemType: 'u16'; value: Uint16Array }
  | { type: 'array'; itemType: 'i16'; value: Int16Array }
  | { type: 'array'; itemType: 'u32'; value: Uint32Array }
  | { type: 'array'; itemType: 'i32'; value: Int32Array }
  | { type: 'array'; itemType: 'f32'; value: Float32Array }
  | { type: 'array'; itemType: 'f64'; value: Float64Array }
  | { type: 'array'; itemType: 'u64'; value: BigUint64Array }
  | { type: 'array'; itemType: 'i64'; value: BigInt64Array }
  | { type: 'array'; itemType: 'bool'; value: boolean[] }
  | { type: 'array'; itemType: 'string'; value: string[] };

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** Insertion-ordered: the writer emits keys in this order. */
export type GgufMetadata = Map<string, GgufValue>;

/** Byte width of each fixed-size scalar type (strings are length-prefixed instead). */
export const GGUF_SCALAR_SIZE: Readonly<Record<Exclude<GgufScalarTypeName, 'string'>, number>> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  u64: 8,
  i64: 8,
  f64: 8,
};

export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** Elements per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

const QK_K = 256;

/** Every ggml type a GGUF file may hold in this llama.cpp (ids 4, 5, 31-33, 36-38 were removed). */
const GGML_TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 2 + 16 },
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 2 + 2 + 16 },
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 2 + 4 + 16 },
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 2 + 2 + 4 + 16 },
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 2 + 32 },
  { id: 9, name: 'Q8_1', blockSize: 32, typeSize: 2 + 2 + 32 },
  { id: 10, name: 'Q2_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 16 + QK_K / 4 },
  { id: 11, name: 'Q3_K', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + 12 },
  { id: 12, name: 'Q4_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + 12 },
  { id: 13, name: 'Q5_K', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 8 + 12 },
  { id: 14, name: 'Q6_K', blockSize: QK_K, typeSize: 2 + QK_K / 2 + QK_K / 4 + QK_K / 16 },
  { id: 15, name: 'Q8_K', blockSize: QK_K, typeSize: 4 + QK_K + QK_K / 8 },
  { id: 16, name: 'IQ2_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 },
  { id: 17, name: 'IQ2_XS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 32 },
  { id: 18, name: 'IQ3_XXS', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 },
  { id: 19, name: 'IQ1_S', blockSize: QK_K, typeSize: 2 + QK_K / 8 + QK_K / 16 },
  { id: 20, name: 'IQ4_NL', blockSize: 32, typeSize: 2 + 16 },
  { id: 21, name: 'IQ3_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4 },
  { id: 22, name: 'IQ2_S', blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 16 },
  { id: 23, name: 'IQ4_XS', blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 64 },
  { id: 24, name: 'I8', blockSize: 1, typeSize: 1 },
  { id: 25, name: 'I16', blockSize: 1, typeSize: 2 },
  { id: 26, name: 'I32', blockSize: 1, typeSize: 4 },
  { id: 27, name: 'I64', blockSize: 1, typeSize: 8 },
  { id: 28, name: 'F64', blockSize: 1, typeSize: 8 },
  { id: 29, name: 'IQ1_M', blockSize: QK_K, typeSize: QK_K / 8 + QK_K / 16 + QK_K / 32 },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2 },
  { id: 34, name: 'TQ1_0', blockSize: QK_K, typeSize: 2 + 4 * 13 },
  { id: 35, name: 'TQ2_0', blockSize: QK_K, typeSize: 2 + 64 },
  { id: 39, name: 'MXFP4', blockSize: 32, typeSize: 1 + 16 },
  { id: 40, name: 'NVFP4', blockSize: 64, typeSize: 4 + 32 },
  { id: 41, name: 'Q1_0', blockSize: 128, typeSize: 2 + 16 },
  { id: 42, name: 'Q2_0', blockSize: 64, typeSize: 2 + 16 },
];

export const GGML_TYPE_BY_ID: ReadonlyMap<number, GgmlTypeInfo> = new Map(GGML_TYPES.map((t) => [t.id, t]));
export const GGML_TYPE_BY_NAME: ReadonlyMap<string, GgmlTypeInfo> = new Map(GGML_TYPES.map((t) => [t.name, t]));

/** The float types the converter produces itself (quantized types come from llama.cpp). */
export type WritableTensorType = 'F32' | 'F16' | 'BF16';

/** llama_ftype values (include/llama.h) written to general.file_type. */
export const LLAMA_FILE_TYPE = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q4_0: 2,
  MOSTLY_Q8_0: 7,
  MOSTLY_Q4_K_M: 15,
  MOSTLY_BF16: 32,
} as const;

/** llama_token_type values written to tokenizer.ggml.token_type. */
export const TOKEN_TYPE = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** llama_pooling_type LAST: the hidden state of the sequence's last token. */
export const POOLING_TYPE_LAST = 3;

/** One tensor as described in a GGUF header. */
export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: ne[0] is the innermost (contiguous) dimension, i.e. the last PyTorch dimension. */
  readonly ne: readonly number[];
  readonly type: GgmlTypeInfo;
  /** Offset relative to the start of the data section. */
  readonly offset: number;
  readonly byteSize: number;
}

/** `[start, end)` absolute file offsets. */
export type ByteSpan = readonly [number, number];

export interface GgufHeader {
  readonly version: number;
  readonly fileSize: number;
  readonly alignment: number;
  /** Absolute file offset where tensor data starts. */
  readonly dataOffset: number;
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorInfo[];
  /** Set by readGgufHeader: where each key/value pair and each tensor-info record sits in the file (for the digest). */
  readonly spans?: {
    readonly metadata: ReadonlyMap<string, ByteSpan>;
    readonly tensorInfos: readonly ByteSpan[];
  };
}
