// SPDX-License-Identifier: MIT
// Options of pullModel, validated with zod through the library's parseOptions. Hub settings not
// given here come from the environment (see readHubSettings.ts).
import { z } from 'zod';
import { CONVERT_TYPES, type ConvertProgress } from '../convert/convertOptions.js';
import { parseOptions } from '../options.js';

/** Reported as bytes arrive (all files of the checkpoint together), as the GGUF is written, then as it is verified. */
export type PullProgress =
  | { readonly phase: 'download'; readonly file: string; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly phase: 'convert'; readonly detail: ConvertProgress }
  | { readonly phase: 'verify'; readonly bytesDone: number; readonly bytesTotal: number };

const isFunction = (v: unknown): boolean => typeof v === 'function';

const pullOptionsSchema = z
  .object({
    /** Branch, tag or commit (default: the one in the repo id, else 'main'). */
    revision: z.string().min(1).optional(),
    /** GGUF tensor type (default: the one in the repo id, else DEFAULT_GGUF_TYPE). */
    type: z.enum(CONVERT_TYPES).optional(),
    /** Download and convert again even when the cache has the files. */
    force: z.boolean().default(false),
    /** Threads for quantized types (default: all CPUs). */
    threads: z.number().int().min(1).max(1024).optional(),
    onProgress: z.custom<(progress: PullProgress) => void>(isFunction, { message: 'a function' }).optional(),
    /** Default: HF_ENDPOINT, else https://huggingface.co. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** Default: HF_TOKEN, else the token file of `hf auth login`. */
    token: z.string().min(1).optional(),
    /** Default: HF_HUB_OFFLINE. */
    offline: z.boolean().optional(),
    /** Default: LOGTRIAGE_CACHE_DIR, else ~/.cache/logtriage. */
    cacheDir: z.string().min(1).optional(),
  })
  .strict();

export type PullOptions = z.input<typeof pullOptionsSchema>;
export type ResolvedPullOptions = z.output<typeof pullOptionsSchema>;

export function parsePullOptions(options: unknown): ResolvedPullOptions {
  return parseOptions(pullOptionsSchema, options, 'pullModel() options');
}
