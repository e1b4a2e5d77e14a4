// SPDX-License-Identifier: MIT
// Options of convertCheckpoint, validated with zod through the library's parseOptions: unknown keys
// get a did-you-mean hint, and messages read "Expected <what> for <path> but received <v> of type <t>".

import { availableParallelism } from 'node:os';

import { z } from 'zod';

import type { QuantizeType } from '../engine/native.js';
import { parseOptions } from '../options.js';

export const CONVERT_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k_m'] as const satisfies readonly QuantizeType[];
export type ConvertType = (typeof CONVERT_TYPES)[number];
export type QuantizedConvertType = Extract<ConvertType, 'q8_0' | 'q4_0' | 'q4_k_m'>;

/** The addon's llama_model_quantize wrapper: reads `input`, writes `output` of `type`. */
export type QuantizeFn = (input: string, output: string, type: QuantizeType, threads: number) => Promise<void>;

/**
 * Reported after every chunk written, then around quantization. The write phase counts tensor
 * bytes of the float GGUF; the quantize phase (opaque, native) reports 0 of 1 and then 1 of 1.
 */
export interface ConvertProgress {
  readonly phase: 'write' | 'quantize';
  /** GGUF name of the tensor being written (write phase). */
  readonly tensor?: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface ConvertOptions {
  /** Output tensor type; 1-D tensors (norms, biases) and the head always stay F32. */
  readonly type: ConvertType;
  /** Threads for quantization (default: os.availableParallelism()). */
  readonly threads?: number;
  /** Quantizer for q8_0 / q4_0 / q4_k_m (default: the native addon's). */
  readonly quantize?: QuantizeFn;
  readonly onProgress?: (progress: ConvertProgress) => void;
  /** general.name (default: the checkpoint folder's name). */
  readonly name?: string;
}

const isFunction = (v: unknown): boolean => typeof v === 'function';

// Kept beside the converter because src/options.ts belongs to the classifier; parsed by its parseOptions.
const convertOptionsSchema = z
  .object({
    type: z.enum(CONVERT_TYPES),
    threads: z.number().int().min(1).max(1024).default(() => availableParallelism()),
    quantize: z.custom<QuantizeFn>(isFunction, { message: 'a function' }).optional(),
    onProgress: z.custom<(progress: ConvertProgress) => void>(isFunction, { message: 'a function' }).optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

export type ResolvedConvertOptions = z.output<typeof convertOptionsSchema>;

export function parseConvertOptions(options: unknown): ResolvedConvertOptions {
  return parseOptions(convertOptionsSchema, options, 'options');
}
