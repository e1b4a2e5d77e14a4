// SPDX-License-Identifier: MIT
// Every option the library takes, as zod schemas with their defaults, and the one parser that
// turns a zod failure into a ValidationError naming the field and what it accepts.
import { z } from 'zod';
import { ValidationError } from './errors.js';

export const GPU_CHOICES = ['auto', 'cpu', 'cuda', 'metal', 'vulkan'] as const;
export const TRUNCATION_CHOICES = ['right', 'left', 'error'] as const;
export const SPECIAL_TOKEN_CHOICES = ['plain', 'parse'] as const;
export const FUNCTION_TO_APPLY_CHOICES = ['softmax', 'sigmoid', 'none'] as const;
export const CALIBRATION_CHOICES = ['auto', 'none'] as const;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** Default cell budget of the cross-call prefix cache (docs/performance.md, "prefix cache"). */
export const DEFAULT_PREFIX_CACHE_CELLS = 512;

const probability = z.number().min(0).max(1);

/** When a result gets `review: true` (docs/api.md#review); the label is never replaced. */
export const reviewOptionsSchema = z
  .object({
    /** Review results whose top score is below this. */
    minScore: probability.optional(),
    /** Review results whose top score leads the second by less than this. */
    minMargin: probability.optional(),
  })
  .strict();

export const THRESHOLDS_FILE_VERSION = 1;

/**
 * Alert thresholds as `eval --thresholds-out` writes them (docs/eval.md#alert-thresholds): per
 * label, the lowest score at which a line whose top label it is raises an alert, and the
 * calibration of the scores they were set on. open() takes this object as `alertThresholds`.
 */
export const thresholdsFileSchema = z
  .object({
    version: z.literal(THRESHOLDS_FILE_VERSION),
    /** Calibration of the scores the thresholds were set on: 'none', 'temperature' or 'vector'. */
    calibration: z.enum(['none', 'temperature', 'vector']),
    /** Label → lowest alerting score. */
    thresholds: z.record(z.string().min(1), probability),
    /** How each threshold was found, for people; not read back. */
    fitted: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type ThresholdsFile = z.infer<typeof thresholdsFileSchema>;

/** Options of `new TemplateParser()` (src/templates, docs/templates.md). */
export const templateParserOptionsSchema = z
  .object({
    /** Templates kept; past it the least recently used one is evicted. */
    maxTemplates: positiveInt(10_000_000).default(10_000),
    /**
     * How alike a line and a template must be for the line to join it: constant tokens they share at
     * the same place over the constants of whichever has more (docs/templates.md#similarity).
     */
    similarity: z.number().gt(0).max(1).default(0.7),
    /** Characters of a line read (the rest is ignored): bounds the time and memory a long line costs. */
    maxLineLength: positiveInt(1_048_576).default(2048),
    /** Distinct first tokens per token count before new ones share the wildcard branch. */
    maxChildren: positiveInt(100_000).default(100),
  })
  .strict();

export type TemplateParserOptions = z.input<typeof templateParserOptionsSchema>;

/**
 * `open()`'s `templateTier` (docs/templates.md#template-tier): the first line of a template is
 * classified by the model, later lines of it take that result, but for a seeded random `audit`
 * share that the model classifies anyway; a template whose audited lines agree with its label less
 * than `minAgreement` (after at least `minAudits` audits) is retired to per-line classification.
 */
export const templateTierOptionsSchema = z
  .object({
    /** Share of a template's later lines the model classifies anyway, to check the template's label. */
    audit: probability.default(0.05),
    /** Seed of the audit draws (the same lines in the same order audit the same lines). */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Audits a template needs before it can be retired. */
    minAudits: positiveInt(1_000_000).default(3),
    /** Share of audited lines that must agree with the template's label; below it the template is retired. */
    minAgreement: probability.default(0.9),
    /** Templates tracked (TemplateParser `maxTemplates`); past it the least recently used is forgotten. */
    maxTemplates: positiveInt(10_000_000).default(10_000),
  })
  .strict();

export type TemplateTierOptions = z.input<typeof templateTierOptionsSchema>;

/** Options of `LogClassifier.open()`. */
export const openOptionsSchema = z
  .object({
    /**
     * CPU threads for llama.cpp. 'auto' (default): start at the physical cores available to this
     * process and adapt at run time between 1 and that, to the count that decodes fastest now
     * (see runtimePlan.ts decideThreads, adaptThreads.ts). A number: exactly that many, fixed.
     */
    threads: z.union([z.literal('auto'), positiveInt(1024)], { error: "'auto' or an integer from 1 to 1024" }).default('auto'),
    /** Which backend runs the model; 'auto' takes the best GPU found, else the CPU. */
    gpu: z.enum(GPU_CHOICES).default('auto'),
    /** Layers to offload to the GPU; default all of them when a GPU is used. */
    gpuLayers: z.number().int().min(0).max(100_000).optional(),
    /** Most lines packed into one decode (llama.cpp n_seq_max). */
    batchSize: positiveInt(256).default(32),
    /** Most tokens in one decode (llama.cpp n_batch / n_ubatch). */
    batchTokens: positiveInt(65_536).default(512),
    /**
     * Most tokens per compute graph (llama.cpp n_ubatch); a decode of more runs in several.
     * Default: 256 on the CPU (as fast as 512 there, ~40 MiB less peak memory), 512 on a GPU.
     */
    ubatchTokens: positiveInt(65_536).optional(),
    /** Most tokens per line; longer lines follow `truncation`. Default: min(2048, training context). */
    maxTokens: positiveInt(1_048_576).optional(),
    /** What to do with lines over `maxTokens`: keep the start, keep the end, or throw. */
    truncation: z.enum(TRUNCATION_CHOICES).default('right'),
    /** 'plain' (safe default) tokenizes special-token text as text; 'parse' reproduces HF exactly. */
    specialTokens: z.enum(SPECIAL_TOKEN_CHOICES).default('plain'),
    /** Whitespace-only lines throw EmptyInputError unless this is false. */
    rejectWhitespace: z.boolean().default(true),
    /** Decode a prefix shared by lines of one batch once (see docs/model-format.md#inference). */
    prefixSharing: z.boolean().default(true),
    /**
     * Keep the KV cells of recently decoded lines across calls, so that a line decodes only what
     * follows its longest cached prefix (see docs/api.md#prefix-cache). `cells`: most KV cells
     * kept (LRU by line); false turns it off, as does `prefixSharing: false`.
     */
    prefixCache: z
      .union([z.literal(false), z.object({ cells: z.number().int().min(1).max(1_048_576).default(DEFAULT_PREFIX_CACHE_CELLS) }).strict()])
      .default({ cells: DEFAULT_PREFIX_CACHE_CELLS }),
    /** Lines whose logits are kept for exact repeats (LRU, by tokens); 0 turns the cache off. */
    resultCache: z.number().int().min(0).max(1_000_000).default(4096),
    /**
     * Flash attention in llama.cpp. 'auto': wherever the device supports it (on the CPU it does,
     * 7-8% faster), except for F32 weights, whose 1e-4 HF parity its F16 internals would break.
     */
    flashAttn: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /**
     * KV cache precision. 'auto' follows the weights: F32 for F32 (exact parity), F16 for F16, BF16
     * and Q8_0, Q8_0 for weights quantized below 8 bits (where heads are 32-wide and flash attention is not off).
     */
    kvCacheType: z.enum(['auto', 'f32', 'f16', 'q8_0']).default('auto'),
    /**
     * Memory-map the weights. 'auto': map them, except on the CPU for weight types its backend
     * repacks (Q4_0, Q4_K, ...), where mapped pages would stay resident beside the repacked copy.
     */
    useMmap: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /** Most lines waiting in the queue; past it calls throw OverloadedError. */
    maxQueuedLines: positiveInt(10_000_000).default(100_000),
    /**
     * Check the file against its content digest (docs/model-format.md#verified-by-default).
     * 'once' (default): hash it on its first open, overlapped with the load, and record a stamp in
     * the cache folder so that opens of the unchanged file skip the hashing; a file without a
     * digest loads with one warning. 'require': 'once', refusing a file without a digest. true:
     * hash on every open, refusing a file without one. false: no check. A mismatch throws IntegrityError.
     */
    verify: z.union([z.boolean(), z.enum(['once', 'require'])], { message: "a boolean, 'once' or 'require'" }).default('once'),
    /** 'auto' applies the model's `logtriage.calibration.*` (from `logtriage calibrate`) to the scores; 'none' ignores it. */
    calibration: z.enum(CALIBRATION_CHOICES).default('auto'),
    /** Default review thresholds of every classify call. */
    review: reviewOptionsSchema.optional(),
    /**
     * Alert thresholds (a thresholds file's content): checked against the model's labels and the
     * calibration applied after the header read, before the weights load; results get `alert`.
     */
    alertThresholds: thresholdsFileSchema.optional(),
    /**
     * Serve later lines of a template from its first line's result (results get `via` and
     * `template`), auditing a seeded share with the model; false (default): every line is classified.
     */
    templateTier: z.union([z.literal(false), templateTierOptionsSchema]).default(false),
    /** Path to a logtriage.node to use instead of the built one. */
    nativeBinding: z.string().min(1).optional(),
  })
  .strict();

export type OpenOptions = z.input<typeof openOptionsSchema>;
export type ResolvedOpenOptions = z.output<typeof openOptionsSchema>;

/** Options of `classify()` / `classifyMany()`. */
export const classifyOptionsSchema = z
  .object({
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'an AbortSignal' }).optional(),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function', { message: 'a function' }).optional(),
    /** Review thresholds of this call, in place of open()'s. */
    review: reviewOptionsSchema.optional(),
    /** Long lines of this call, in place of open()'s `truncation` ('error' refuses them before any decode). */
    truncation: z.enum(TRUNCATION_CHOICES).optional(),
    /**
     * true: one outcome per line, `{ status: 'fulfilled', value }` or `{ status: 'rejected', reason }`
     * for a line refused on its own (not a string, empty or whitespace only, too long with
     * truncation 'error'); the other lines are classified. false (default): such a line fails the call.
     */
    settled: z.boolean().default(false),
  })
  .strict();

export type ClassifyOptions = z.input<typeof classifyOptionsSchema>;

/** Options of `classify()`: one line has one outcome, so no `settled`. */
export type ClassifyOneOptions = Omit<ClassifyOptions, 'settled'>;

/** Options of `embed()`: those of `classifyMany()` without `review` (a hidden state has no score to review). */
export const embedOptionsSchema = classifyOptionsSchema.omit({ review: true, settled: true }).strict();

export type EmbedOptions = z.input<typeof embedOptionsSchema>;

/** L2 penalty of `logtriage adapt` on the standardised head weights (see src/adapt/fitHead.ts). */
export const DEFAULT_ADAPT_L2 = 0.01;
/** Held-out share of `logtriage adapt` without --holdout or --folds. */
export const DEFAULT_ADAPT_HOLDOUT = 0.2;
/** Fewest labeled lines per label `logtriage adapt` fits from. */
export const DEFAULT_ADAPT_MIN_PER_LABEL = 10;

/** The fit options of `logtriage adapt` (src/cli/commands/adapt.ts); at most one of holdout and folds. */
export const adaptOptionsSchema = z
  .object({
    /** Share of each label's lines held out (by distinct text) to compare the heads. */
    holdout: z.number().gt(0).lt(1).optional(),
    /** k-fold comparison instead; the head written is then fitted on every line. */
    folds: z.number().int().min(2).max(50).optional(),
    l2: z.number().positive().finite().default(DEFAULT_ADAPT_L2),
    minPerLabel: z.number().int().min(2).default(DEFAULT_ADAPT_MIN_PER_LABEL),
    /** Fit a head with the file's labels when they are not the model's. */
    newLabels: z.boolean().default(false),
    /** Write the head even when it is worse on the held-out lines. */
    force: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.holdout === undefined || o.folds === undefined, { message: 'either holdout or folds, not both', path: ['folds'] });

export type AdaptOptions = z.input<typeof adaptOptionsSchema>;

/** `logtriage label` (src/cli/commands/label.ts): the labels offered (keys 1-9, 0) and the port on 127.0.0.1. */
export const labelOptionsSchema = z
  .object({
    labels: z.array(z.string().trim().min(1)).min(1).max(10),
    output: z.string().min(1),
    /** 0: any free port. */
    port: z.number().int().min(0).max(65535).default(0),
    /** The order lines are offered in; default 'uncertain' with a model, else 'random'. */
    mode: z.enum(['uncertain', 'random']).optional(),
    /** Seed of the 'random' shuffle. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
  })
  .strict();

export type LabelOptions = z.input<typeof labelOptionsSchema>;

/** Options of the HF-pipeline-shaped helper. */
export const pipelineOptionsSchema = classifyOptionsSchema
  .omit({ settled: true })
  .extend({
    /** How many labels per input, best first; null for all of them (HF `top_k`). */
    topK: z.number().int().min(1).nullable().default(1),
    functionToApply: z.enum(FUNCTION_TO_APPLY_CHOICES).default('softmax'),
  })
  .strict();

export type PipelineOptions = z.input<typeof pipelineOptionsSchema>;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  try {
    const s = JSON.stringify(value);
    return s && s.length > 60 ? `${s.slice(0, 60)}…` : String(s);
  } catch {
    return String(value);
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'non-integer number';
  return typeof value;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function getAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  return v;
}

function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `a ${issue.origin === 'number' ? 'number' : issue.origin} of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `a ${issue.origin === 'number' ? 'number' : issue.origin} of at most ${String(issue.maximum)}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
    case 'custom':
      return issue.message;
    default:
      return issue.message;
  }
}

/** The object schema at `path` inside `schema` (through optional and default wrappers). */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject | undefined {
  let current: unknown = schema;
  for (let i = 0; ; i++) {
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
    if (!(current instanceof z.ZodObject)) return undefined;
    if (i === path.length) return current;
    current = current.shape[String(path[i])];
  }
}

/**
 * Parses `value` with `schema`; on failure throws a ValidationError in the form
 * "Expected <what> for <where>.<field> but received <value> of type <type>".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const nested = objectAt(schema, issue.path);
    const known = nested ? Object.keys(nested.shape) : [];
    if (issue.path.length > 0) where = `${where}.${issue.path.map(String).join('.')}`;
    const parts = issue.keys.map((key) => {
      const best = known.map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
      return best && best[1] <= 3 ? `'${key}' (did you mean '${best[0]}'?)` : `'${key}'`;
    });
    throw new ValidationError(`Unknown option ${parts.join(', ')} for ${where}; known options: ${known.join(', ')}`);
  }
  const path = issue.path.map(String).join('.');
  const received = getAt(value, issue.path);
  throw new ValidationError(
    `Expected ${expected(issue)} for ${where}${path ? `.${path}` : ''} but received ${describe(received)} of type ${typeName(received)}`,
  );
}
