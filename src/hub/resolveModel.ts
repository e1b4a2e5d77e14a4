// SPDX-License-Identifier: MIT
// What `--model` and `LogClassifier.open()` accept: a GGUF path, or a hub repo id
// (`owner/name[@revision][:type]`) looked up in the model cache, or nothing for the default
// model. Never downloads: a model missing from the cache is an error that gives the pull command.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelNotCachedError } from '../errors.js';
import { DEFAULT_GGUF_TYPE, DEFAULT_REPO_ID, DEFAULT_REVISION, pullCommandFor } from './defaults.js';
import { parseModelRef, type ModelRef } from './parseModelRef.js';
import { cacheDirFromEnv, offlineFromEnv } from './readHubSettings.js';
import { RepoCache } from './RepoCache.js';

type Env = Readonly<Record<string, string | undefined>>;

function cachedModel(ref: ModelRef, isDefault: boolean, env: Env): string {
  const cache = new RepoCache(cacheDirFromEnv(env), ref.repoId);
  const revision = ref.revision ?? DEFAULT_REVISION;
  const commit = cache.commitOf(revision);
  const types = commit === undefined ? [] : cache.ggufTypes(commit);
  // Without a type: the default one if it was pulled, else the only one there is.
  const type = ref.type ?? (types.includes(DEFAULT_GGUF_TYPE) || types.length !== 1 ? DEFAULT_GGUF_TYPE : types[0]!);
  if (commit !== undefined && types.includes(type)) return cache.ggufPath(commit, type);

  const what = `${isDefault ? 'No model was given and the default model ' : 'Model '}${ref.repoId}${ref.revision ? `@${ref.revision}` : ''}`;
  const others = types.length > 0 ? ` (cached as ${types.map((t) => `${ref.repoId}:${t}`).join(', ')})` : '';
  const offline = offlineFromEnv(env) ? ' (HF_HUB_OFFLINE is set: pulling needs network access)' : '';
  throw new ModelNotCachedError(
    `${what} is not in the model cache as ${type}${others} at ${cache.dir}. Download and convert it with: ${pullCommandFor(ref.repoId, revision, type)}${offline}`,
  );
}

/** Absolute path of the GGUF `model` names; undefined means the default model. */
export function resolveModel(model?: string, env: Env = process.env): string {
  if (model === undefined) return cachedModel({ repoId: DEFAULT_REPO_ID }, true, env);
  // A path wins over a repo id of the same shape: `models/logs.gguf` is a file.
  if (model.endsWith('.gguf') || existsSync(model)) return resolve(model);
  const ref = parseModelRef(model);
  return ref === undefined ? resolve(model) : cachedModel(ref, false, env);
}
