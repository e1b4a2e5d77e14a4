// SPDX-License-Identifier: MIT
// The environment the hub code honours, read the way huggingface_hub reads it: HF_ENDPOINT (a
// mirror), HF_TOKEN (else the token file `hf auth login` writes), HF_HUB_OFFLINE; plus
// LOGTRIAGE_CACHE_DIR for where pulled models live.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../errors.js';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubSettings {
  /** Base URL of the hub, without a trailing slash. */
  readonly endpoint: string;
  readonly token: string | undefined;
  /** HF_HUB_OFFLINE: never touch the network; only what is cached can be used. */
  readonly offline: boolean;
  /** Root of logtriage's model cache. */
  readonly cacheDir: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const xdgCacheHome = (env: Env): string => env.XDG_CACHE_HOME || join(homedir(), '.cache');

/** LOGTRIAGE_CACHE_DIR, else `$XDG_CACHE_HOME/logtriage` (`~/.cache/logtriage`). */
export function cacheDirFromEnv(env: Env = process.env): string {
  return env.LOGTRIAGE_CACHE_DIR || join(xdgCacheHome(env), 'logtriage');
}

/** huggingface_hub's `_is_true`: 1, ON, YES, TRUE in any case. */
export function offlineFromEnv(env: Env = process.env): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').trim().toUpperCase());
}

function tokenFromEnv(env: Env): string | undefined {
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const tokenPath = env.HF_TOKEN_PATH || join(env.HF_HOME || join(xdgCacheHome(env), 'huggingface'), 'token');
  const saved = existsSync(tokenPath) ? readFileSync(tokenPath, 'utf8').trim() : '';
  return saved || undefined;
}

function endpointFromEnv(env: Env): string {
  const endpoint = (env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT).trim().replace(/\/+$/, '');
  if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
    throw new ValidationError(`Expected an http(s) URL for HF_ENDPOINT but received ${JSON.stringify(env.HF_ENDPOINT)}`);
  }
  return endpoint;
}

export function readHubSettings(env: Env = process.env): HubSettings {
  return { endpoint: endpointFromEnv(env), token: tokenFromEnv(env), offline: offlineFromEnv(env), cacheDir: cacheDirFromEnv(env) };
}
