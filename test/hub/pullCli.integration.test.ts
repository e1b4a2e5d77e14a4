// SPDX-License-Identifier: MIT
// `logtriage pull` and `--model <repo id>` end to end, through real processes: the fake hub on
// loopback serves the HF parity fixture under the default repo id, via HF_ENDPOINT.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/LogClassifier.js';
import { loghubDir, splitLogLines, tinyCheckpointDir } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';
import { FakeHub } from './fakeHub.js';

const DEFAULT_REPO = 'Deeps03/qwen2-1.5b-log-classifier';
const GATED = 'acme/gated-classifier';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

let work: string;
let hub: FakeHub;
const INPUT_LINES = 12;
const input = splitLogLines(readFileSync(join(loghubDir(), 'OpenSSH_2k.log'), 'utf8')).slice(0, INPUT_LINES).join('\n');
const parseJsonl = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { label: string; score: number });
const oneLine = (stderr: string) => stderr.trim().split('\n');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'logtriage-pull-cli-'));
  hub = await FakeHub.start({
    [DEFAULT_REPO]: { dir: tinyCheckpointDir(), commit: COMMIT },
    [GATED]: { dir: tinyCheckpointDir(), commit: COMMIT, gated: true },
  });
  // Spawned CLIs inherit this environment.
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.HF_HOME = join(work, 'hf-home');
  process.env.LOGTRIAGE_CACHE_DIR = join(work, 'cache');
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
});

afterAll(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => hub.reset());

describe('logtriage pull', () => {
  it('pulls the default model, prints its path, and classify / open() use it by default and by repo id', async () => {
    const pull = await runCli(['pull']);
    expect(pull.code, pull.stderr).toBe(0);
    const path = join(work, 'cache', 'models--Deeps03--qwen2-1.5b-log-classifier', 'gguf', COMMIT, 'q8_0.gguf');
    expect(pull.stdout).toBe(`${path}\n`);
    expect(existsSync(path)).toBe(true);
    // Piped stderr: the summary line only, no progress bar.
    expect(oneLine(pull.stderr)).toEqual([expect.stringMatching(/^pulled Deeps03\/qwen2-1\.5b-log-classifier@0123456789ab \(q8_0\) in [\d.]+ s$/)]);
    expect(hub.requestsFor(DEFAULT_REPO, 'model.safetensors').filter((r) => r.server === 'cdn' && r.method === 'GET')).toHaveLength(1);

    // No --model: the CLI takes the pulled default. By repo id: the library, in this process.
    const byDefault = await runCli(['classify', '--threads', '1'], input);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    const records = parseJsonl(byDefault.stdout);
    expect(records).toHaveLength(INPUT_LINES);
    const classifier = await LogClassifier.open(`${DEFAULT_REPO}:q8_0`, { threads: 1, gpu: 'cpu' });
    try {
      expect(classifier.info.path).toBe(path);
      const results = await classifier.classifyMany(input.split('\n'));
      expect(results.map((r) => r.label)).toEqual(records.map((r) => r.label));
      for (const [i, r] of results.entries()) expect(r.score).toBeCloseTo(records[i]!.score, 6);
    } finally {
      await classifier.dispose();
    }

    hub.reset();
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const offline = await runCli(['pull']);
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toBe(`${path}\n`);
      expect(offline.stderr).toMatch(/is already in the cache/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    expect(hub.requests).toEqual([]);
  });

  it('without a cached model: one clear line that gives the pull command, exit 1', async () => {
    process.env.LOGTRIAGE_CACHE_DIR = join(work, 'empty-cache');
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const [classify, pull] = await Promise.all([runCli(['classify', '--threads', '1'], input), runCli(['pull'])]);
      expect(classify.code).toBe(1);
      expect(oneLine(classify.stderr)).toEqual([
        expect.stringMatching(/^logtriage: ModelNotCachedError: No model was given and the default model .* Download and convert it with: logtriage pull Deeps03\/qwen2-1\.5b-log-classifier \(HF_HUB_OFFLINE is set/),
      ]);
      expect(pull.code).toBe(1);
      expect(oneLine(pull.stderr)).toEqual([expect.stringMatching(/^logtriage: ModelNotCachedError: HF_HUB_OFFLINE is set and /)]);
      expect(pull.stdout).toBe('');
    } finally {
      process.env.LOGTRIAGE_CACHE_DIR = join(work, 'cache');
      delete process.env.HF_HUB_OFFLINE;
    }
    expect(hub.requests).toEqual([]);
  });

  it('on a gated repo without HF_TOKEN: HubAuthError in one line, exit 1; a bad flag exits 2', async () => {
    const [gated, usage] = await Promise.all([runCli(['pull', GATED]), runCli(['pull', '--type', 'q3_k'])]);
    expect(gated.code).toBe(1);
    expect(oneLine(gated.stderr)).toEqual([expect.stringMatching(/^logtriage: HubAuthError: .*HTTP 401.*set HF_TOKEN/)]);
    expect(usage.code).toBe(2);
  });
});
