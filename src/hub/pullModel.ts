// SPDX-License-Identifier: MIT
// `logtriage pull`: HuggingFace repo → verified checkpoint in the cache → converted GGUF, the
// way `pipeline(model=…)` turns a repo id into a working model. Resolves the revision to a
// commit first, so every file comes from the same commit and a resumed download cannot splice two.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { convertCheckpoint } from '../convert/index.js';
import type { ConvertType } from '../convert/convertOptions.js';
import { readHfConfig } from '../convert/readHfConfig.js';
import { ConvertError, HubError, IntegrityError, ModelNotCachedError, ValidationError } from '../errors.js';
import { requireVerifiedModel } from '../gguf/verifyModel.js';
import { DEFAULT_GGUF_TYPE, DEFAULT_REPO_ID, DEFAULT_REVISION, pullCommandFor } from './defaults.js';
import { downloadVerifiedFile } from './downloadVerifiedFile.js';
import { HubClient } from './HubClient.js';
import { checkRevision, parseModelRef } from './parseModelRef.js';
import { parsePullOptions, type PullOptions, type PullProgress, type ResolvedPullOptions } from './pullOptions.js';
import { readHubSettings, type HubSettings } from './readHubSettings.js';
import { RepoCache } from './RepoCache.js';

export interface PullResult {
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  readonly type: ConvertType;
  /** The converted GGUF. */
  readonly path: string;
  /** True when the GGUF was already in the cache and nothing was downloaded or converted. */
  readonly cached: boolean;
}

/** Needed by the converter; a repo without them is refused before any weights are fetched. */
const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
/** Kept with the checkpoint when the repo has them, so the cached folder is a complete HF tokenizer. */
const OPTIONAL_TOKENIZER_FILES = ['special_tokens_map.json', 'added_tokens.json', 'vocab.json', 'merges.txt'];
const SINGLE_WEIGHTS = 'model.safetensors';
const WEIGHTS_INDEX = 'model.safetensors.index.json';
const SHARD_NAME = /^[\w-][\w.-]*\.safetensors$/;

/** The value given in the repo id or in the options; both is fine only when they agree. */
function pick<T extends string>(name: string, inRef: T | undefined, inOptions: T | undefined): T | undefined {
  if (inRef !== undefined && inOptions !== undefined && inRef !== inOptions) {
    throw new ValidationError(`The model names ${name} '${inRef}' but the ${name} option is '${inOptions}': give it once`);
  }
  return inRef ?? inOptions;
}

async function shardsOf(indexPath: string, listing: ReadonlyMap<string, number>): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (error) {
    throw new ConvertError(`${WEIGHTS_INDEX} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new ConvertError(`${WEIGHTS_INDEX} has no weight_map object`);
  const shards = [...new Set(Object.values(weightMap))];
  const bad = shards.find((s) => typeof s !== 'string' || !SHARD_NAME.test(s) || !listing.has(s));
  if (bad !== undefined) throw new ConvertError(`${WEIGHTS_INDEX} names shard ${JSON.stringify(bad)}, which is not a .safetensors file of the repo`);
  return (shards as string[]).sort();
}

/** Downloads what the converter needs into `dir`; files already there were verified before they got their name. */
async function downloadCheckpoint(hub: HubClient, commit: string, dir: string, onProgress?: (p: PullProgress) => void): Promise<void> {
  const listing = await hub.listTopLevelFiles(commit);
  const where = `${hub.repoId}@${commit.slice(0, 12)}`;
  const missing = REQUIRED_FILES.filter((f) => !listing.has(f));
  if (missing.length > 0) throw new HubError(`${where} has no ${missing.join(', ')}: it is not a HuggingFace transformers checkpoint`);
  if (!listing.has(SINGLE_WEIGHTS) && !listing.has(WEIGHTS_INDEX)) {
    throw new HubError(`${where} has neither ${SINGLE_WEIGHTS} nor ${WEIGHTS_INDEX}: only safetensors weights can be converted (files: ${[...listing.keys()].join(', ')})`);
  }

  let bytesDone = 0;
  let bytesTotal = 0;
  const fetchFile = async (file: string, report: boolean): Promise<void> => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      const { etag, size } = await hub.fileMetadata(commit, file);
      const onFileProgress = (fileDone: number) => onProgress?.({ phase: 'download', file, bytesDone: bytesDone + fileDone, bytesTotal });
      await downloadVerifiedFile({ file, path, etag, size, fetchFrom: (offset) => hub.fetchFile(commit, file, offset), onProgress: report ? onFileProgress : undefined });
    }
    bytesDone += listing.get(file) ?? 0;
  };

  // config.json first: it fails fast on a gated repo and on a model the converter cannot take.
  await fetchFile('config.json', false);
  await readHfConfig(dir);
  const sharded = !listing.has(SINGLE_WEIGHTS);
  if (sharded) await fetchFile(WEIGHTS_INDEX, false);
  const weights = sharded ? await shardsOf(join(dir, WEIGHTS_INDEX), listing) : [SINGLE_WEIGHTS];
  const rest = [...REQUIRED_FILES.slice(1), ...OPTIONAL_TOKENIZER_FILES.filter((f) => listing.has(f)), ...weights];
  bytesTotal = bytesDone + rest.reduce((sum, f) => sum + (listing.get(f) ?? 0), 0);
  for (const file of rest) await fetchFile(file, true);
}

function hubSettings(options: ResolvedPullOptions): HubSettings {
  const env = readHubSettings();
  return {
    endpoint: options.endpoint?.replace(/\/+$/, '') ?? env.endpoint,
    token: options.token ?? env.token,
    offline: options.offline ?? env.offline,
    cacheDir: options.cacheDir ?? env.cacheDir,
  };
}

/**
 * Downloads a HuggingFace Qwen2ForSequenceClassification repo (`owner/name[@revision][:type]`)
 * into the cache, verifies every file against the hub's checksums and converts it to a GGUF.
 * Offline (HF_HUB_OFFLINE or `offline: true`) it only returns what the cache has.
 */
export async function pullModel(model: string = DEFAULT_REPO_ID, options: PullOptions = {}): Promise<PullResult> {
  const opts = parsePullOptions(options);
  const ref = typeof model === 'string' ? parseModelRef(model) : undefined;
  if (ref === undefined) throw new ValidationError(`Expected a HuggingFace repo id (owner/name) for pullModel() but received ${JSON.stringify(model)}`);
  const revision = checkRevision(pick('revision', ref.revision, opts.revision) ?? DEFAULT_REVISION);
  const type = pick('type', ref.type, opts.type) ?? DEFAULT_GGUF_TYPE;
  const settings = hubSettings(opts);
  const cache = new RepoCache(settings.cacheDir, ref.repoId);
  const label = `${ref.repoId}@${revision} (${type})`;

  if (settings.offline) {
    if (opts.force) throw new ValidationError('force re-downloads the model, which HF_HUB_OFFLINE forbids');
    const commit = cache.commitOf(revision);
    if (commit === undefined || !existsSync(cache.ggufPath(commit, type))) {
      throw new ModelNotCachedError(
        `HF_HUB_OFFLINE is set and ${label} is not in the cache (${cache.dir}): unset HF_HUB_OFFLINE and run ${pullCommandFor(ref.repoId, revision, type)}`,
      );
    }
    return { repoId: ref.repoId, revision, commit, type, path: cache.ggufPath(commit, type), cached: true };
  }

  const hub = new HubClient(settings, ref.repoId);
  const commit = await hub.resolveCommit(revision);
  const path = cache.ggufPath(commit, type);
  const result = { repoId: ref.repoId, revision, commit, type, path };
  if (existsSync(path) && !opts.force) {
    cache.saveRef(revision, commit);
    return { ...result, cached: true };
  }
  const checkpointDir = cache.snapshotDir(commit);
  if (opts.force) await rm(checkpointDir, { recursive: true, force: true });
  await mkdir(checkpointDir, { recursive: true });
  await downloadCheckpoint(hub, commit, checkpointDir, opts.onProgress);
  cache.saveRef(revision, commit);
  await mkdir(dirname(path), { recursive: true });
  await convertCheckpoint(checkpointDir, path, {
    type,
    name: ref.repoId.split('/')[1]!,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.onProgress === undefined ? {} : { onProgress: (detail) => opts.onProgress!({ phase: 'convert', detail }) }),
  });
  // Re-read what was written against its digest: a bad disk or a full one shows up here, not as odd scores later.
  await requireVerifiedModel(path, opts.onProgress === undefined ? {} : { onProgress: (bytesDone, bytesTotal) => opts.onProgress!({ phase: 'verify', bytesDone, bytesTotal }) }).catch(async (error: unknown) => {
    if (error instanceof IntegrityError) await rm(path, { force: true });
    throw error;
  });
  return { ...result, cached: false };
}
