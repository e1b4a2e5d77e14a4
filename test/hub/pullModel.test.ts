// SPDX-License-Identifier: MIT
// pullModel() against a fake hub on loopback: sharded and single-file checkpoints, resume with
// Range, checksum failures, gated repos and offline mode. Micro checkpoints keep it fast; the
// real fixture goes through the CLI in pullCli.integration.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumError, ConvertError, HubAuthError, HubError, ModelNotCachedError, ValidationError } from '../../src/errors.js';
import { readGgufHeader, validateLogtriageModel, verifyModel } from '../../src/gguf/index.js';
import { MAX_RESUMES } from '../../src/hub/downloadVerifiedFile.js';
import { pullModel, type PullProgress } from '../../src/hub/index.js';
import { RANDOM_CHECKPOINT_LABELS, makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';
import { FAKE_TOKEN, FakeHub } from './fakeHub.js';

const SHARDED = 'acme/micro-sharded';
const SINGLE = 'acme/micro';
const GATED = 'acme/micro-gated';
const NO_SAFETENSORS = 'acme/pytorch-only';
const COMMIT = { [SHARDED]: 'a'.repeat(40), [SINGLE]: 'b'.repeat(40), [GATED]: 'c'.repeat(40), [NO_SAFETENSORS]: 'd'.repeat(40) };

let work: string;
let hub: FakeHub;
let cacheDir: string;
let singleWeightsSize: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'logtriage-pull-'));
  const sharded = join(work, 'sharded');
  const single = join(work, 'single');
  const pytorchOnly = join(work, 'pytorch-only');
  await makeRandomCheckpoint(sharded, { shape: 'micro', dtype: 'bf16', shards: 3, seed: 7 });
  await makeRandomCheckpoint(single, { shape: 'micro', dtype: 'f32', shards: 1, seed: 8 });
  await mkdir(pytorchOnly);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await copyFile(join(single, f), join(pytorchOnly, f));
  await writeFile(join(pytorchOnly, 'pytorch_model.bin'), 'not really a pickle');
  singleWeightsSize = statSync(join(single, 'model.safetensors')).size;
  hub = await FakeHub.start({
    [SHARDED]: { dir: sharded, commit: COMMIT[SHARDED] },
    [SINGLE]: { dir: single, commit: COMMIT[SINGLE] },
    [GATED]: { dir: single, commit: COMMIT[GATED], gated: true },
    [NO_SAFETENSORS]: { dir: pytorchOnly, commit: COMMIT[NO_SAFETENSORS] },
  });
  // The environment a user would set; the developer's own HF_TOKEN / token file must not leak in.
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.HF_HOME = join(work, 'hf-home');
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
});

afterAll(async () => {
  await hub?.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  hub.reset();
  cacheDir = await mkdtemp(join(work, 'cache-'));
  process.env.LOGTRIAGE_CACHE_DIR = cacheDir;
});

const snapshot = (repoId: string) => join(cacheDir, `models--${repoId.replace('/', '--')}`, 'snapshots', COMMIT[repoId as keyof typeof COMMIT]);
const bytesFetched = () => hub.requests.filter((r) => r.method === 'GET' && !r.path.startsWith('/api/')).length;

describe('pullModel()', () => {
  it('downloads a sharded checkpoint, verifies it and converts it into the cache', async () => {
    const progress: PullProgress[] = [];
    const result = await pullModel(SHARDED, { onProgress: (p) => progress.push(p) });

    expect(result).toMatchObject({ repoId: SHARDED, revision: 'main', commit: COMMIT[SHARDED], type: 'q8_0', cached: false });
    expect(result.path).toBe(join(cacheDir, 'models--acme--micro-sharded', 'gguf', COMMIT[SHARDED], 'q8_0.gguf'));
    const model = validateLogtriageModel(await readGgufHeader(result.path));
    expect(model.labels).toEqual(RANDOM_CHECKPOINT_LABELS);
    expect(readdirSync(snapshot(SHARDED)).sort()).toEqual([
      'config.json', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors',
      'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json',
    ]);
    expect(readFileSync(join(cacheDir, 'models--acme--micro-sharded', 'refs', 'main'), 'utf8')).toBe(COMMIT[SHARDED]);

    // Every file was checked with a HEAD on the pinned commit before it was fetched.
    const heads = hub.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    expect(heads).toHaveLength(7);
    expect(heads.every((p) => p.startsWith(`/${SHARDED}/resolve/${COMMIT[SHARDED]}/`))).toBe(true);
    expect(hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET')).toHaveLength(3);

    const downloads = progress.filter((p) => p.phase === 'download');
    const last = downloads.at(-1)!;
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(downloads.every((p, i) => i === 0 || p.bytesDone >= downloads[i - 1]!.bytesDone)).toBe(true);
    expect(progress.some((p) => p.phase === 'convert')).toBe(true);
    // What was written is read back against its digest, after the conversion.
    const verifies = progress.filter((p) => p.phase === 'verify');
    expect(verifies.length).toBeGreaterThan(0);
    expect(progress.findIndex((p) => p.phase === 'verify')).toBeGreaterThan(progress.findLastIndex((p) => p.phase === 'convert'));
    expect(verifies.at(-1)!.bytesDone).toBe(verifies.at(-1)!.bytesTotal);
    expect((await verifyModel(result.path)).status).toBe('verified');
  });

  it('finds a pulled model in the cache and fetches nothing again, unless forced', async () => {
    await pullModel(SINGLE);
    hub.reset();
    const again = await pullModel(SINGLE);
    expect(again.cached).toBe(true);
    expect(hub.requests.map((r) => r.path)).toEqual([`/api/models/${SINGLE}/revision/main`]);

    const forced = await pullModel(SINGLE, { force: true });
    expect(forced.cached).toBe(false);
    expect(hub.requestsFor(SINGLE, 'model.safetensors').some((r) => r.server === 'cdn' && r.method === 'GET')).toBe(true);
  });

  it('resumes a broken transfer with a Range request within the same pull', async () => {
    const cutAt = Math.floor(singleWeightsSize / 3);
    hub.cutTransfers(SINGLE, 'model.safetensors', cutAt, 1);
    const result = await pullModel(SINGLE);
    expect(existsSync(result.path)).toBe(true);
    const gets = hub.requestsFor(SINGLE, 'model.safetensors').filter((r) => r.server === 'cdn');
    expect(gets.map((r) => r.range)).toEqual([undefined, `bytes=${cutAt}-`]);
  });

  it('keeps the partial file when a transfer keeps breaking, and the next pull resumes it', async () => {
    const step = 4096;
    hub.cutTransfers(SINGLE, 'model.safetensors', step, MAX_RESUMES + 1);
    const failed = await pullModel(SINGLE).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HubError);
    expect((failed as Error).message).toMatch(/model\.safetensors broke off after \d+ of \d+ bytes.*run the same command again to resume/);
    const part = join(snapshot(SINGLE), 'model.safetensors.part');
    const kept = statSync(part).size;
    expect(kept).toBe(step * (MAX_RESUMES + 1));

    hub.reset();
    const result = await pullModel(SINGLE);
    expect(existsSync(result.path)).toBe(true);
    expect(existsSync(part)).toBe(false);
    const gets = hub.requestsFor(SINGLE, 'model.safetensors').filter((r) => r.server === 'cdn');
    expect(gets.map((r) => r.range)).toEqual([`bytes=${kept}-`]);
    // Files completed by the first run were not fetched again.
    expect(hub.requestsFor(SINGLE, 'tokenizer.json')).toEqual([]);
  });

  it('starts over when a server answers a Range request with the whole file', async () => {
    hub.cutTransfers(SINGLE, 'model.safetensors', 4096, MAX_RESUMES + 1);
    await expect(pullModel(SINGLE)).rejects.toThrow(/broke off/);
    hub.reset();
    hub.ignoreRange(SINGLE, 'model.safetensors');
    const result = await pullModel(SINGLE);
    expect(validateLogtriageModel(await readGgufHeader(result.path)).labels).toEqual(RANDOM_CHECKPOINT_LABELS);
    const gets = hub.requestsFor(SINGLE, 'model.safetensors').filter((r) => r.server === 'cdn');
    expect(gets.map((r) => r.range)).toEqual([`bytes=${4096 * (MAX_RESUMES + 1)}-`]);
    expect(statSync(join(snapshot(SINGLE), 'model.safetensors')).size).toBe(singleWeightsSize);
  });

  it('rejects and deletes an LFS file whose sha256 differs from X-Linked-Etag', async () => {
    hub.corrupt(SINGLE, 'model.safetensors');
    const error = await pullModel(SINGLE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect((error as Error).message).toMatch(/^model\.safetensors failed verification: sha256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64}/);
    expect(readdirSync(snapshot(SINGLE)).filter((f) => f.startsWith('model.'))).toEqual([]);
    expect(existsSync(join(cacheDir, 'models--acme--micro', 'gguf'))).toBe(false);
  });

  it('rejects a git-stored file whose git blob id differs from ETag', async () => {
    hub.corrupt(SINGLE, 'tokenizer.json');
    const error = await pullModel(SINGLE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect((error as Error).message).toMatch(/^tokenizer\.json failed verification: git-sha1 [0-9a-f]{40} does not match/);
    expect(existsSync(join(snapshot(SINGLE), 'tokenizer.json'))).toBe(false);
    expect(existsSync(join(snapshot(SINGLE), 'tokenizer.json.part'))).toBe(false);
  });

  it('answers a gated repo without a token with HubAuthError naming HF_TOKEN, and pulls it with one', async () => {
    const error = await pullModel(GATED).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubAuthError);
    expect((error as Error).message).toMatch(/HTTP 401.*set HF_TOKEN/);
    expect(bytesFetched()).toBe(0);

    const wrongToken = await pullModel(GATED, { token: 'hf_notAllowed' }).catch((e: unknown) => e);
    expect(wrongToken).toBeInstanceOf(HubAuthError);
    expect((wrongToken as Error).message).toMatch(/HTTP 403.*no access/);

    hub.reset();
    process.env.HF_TOKEN = FAKE_TOKEN;
    try {
      const result = await pullModel(GATED);
      expect(existsSync(result.path)).toBe(true);
    } finally {
      delete process.env.HF_TOKEN;
    }
    expect(hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization === `Bearer ${FAKE_TOKEN}`)).toBe(true);
    // The token stays on the hub: the CDN redirect leaves its origin.
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('uses only the cache when offline, and says how to pull when it is empty', async () => {
    const missing = await pullModel(SINGLE, { offline: true }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelNotCachedError);
    expect((missing as Error).message).toMatch(/HF_HUB_OFFLINE is set.*unset HF_HUB_OFFLINE and run logtriage pull acme\/micro$/);
    await expect(pullModel(SINGLE, { offline: true, type: 'f16' })).rejects.toThrow(/run logtriage pull acme\/micro --type f16$/);

    const online = await pullModel(SINGLE);
    hub.reset();
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const offline = await pullModel(SINGLE);
      expect(offline).toMatchObject({ path: online.path, commit: COMMIT[SINGLE], cached: true });
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    expect(hub.requests).toEqual([]);
  });

  it('refuses repos it cannot convert before downloading weights', async () => {
    const noWeights = await pullModel(NO_SAFETENSORS).catch((e: unknown) => e);
    expect(noWeights).toBeInstanceOf(HubError);
    expect((noWeights as Error).message).toMatch(/neither model\.safetensors nor model\.safetensors\.index\.json.*pytorch_model\.bin/);
    await expect(pullModel('acme/nope')).rejects.toThrow(/HTTP 404 \(Repository not found\)/);
    await expect(pullModel(SINGLE, { revision: 'v9' })).rejects.toThrow(/acme\/micro@v9: HTTP 404/);
    expect(bytesFetched()).toBe(0);
  });

  it('validates its arguments', async () => {
    await expect(pullModel('not a repo')).rejects.toThrow(ValidationError);
    await expect(pullModel(`${SINGLE}:q8_0`, { type: 'f16' })).rejects.toThrow(/names type 'q8_0' but the type option is 'f16'/);
    await expect(pullModel(SINGLE, { typo: 1 } as never)).rejects.toThrow(/Unknown option 'typo'/);
    await expect(pullModel(SINGLE, { token: 'abc' })).rejects.toThrow(/HF_TOKEN/);
    expect(hub.requests).toEqual([]);
  });
});

describe('pullModel() on a checkpoint the converter refuses', () => {
  it('stops after config.json', async () => {
    const dir = join(work, 'wrong-arch');
    await mkdir(dir, { recursive: true });
    const single = join(work, 'single');
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) await copyFile(join(single, f), join(dir, f));
    const config = JSON.parse(readFileSync(join(single, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['Qwen2ForCausalLM'] }));
    const other = await FakeHub.start({ 'acme/causal': { dir, commit: 'e'.repeat(40) } });
    try {
      const error = await pullModel('acme/causal', { endpoint: other.endpoint }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvertError);
      expect(other.requests.filter((r) => r.method === 'GET' && r.path.endsWith('.safetensors'))).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
