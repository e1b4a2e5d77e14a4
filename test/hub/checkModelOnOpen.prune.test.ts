// SPDX-License-Identifier: MIT
// Verification stamps do not pile up: writing a stamp removes the stamps whose file is gone or
// changed (they can never match again) and, past stampPolicy.maxStamps, the least recently used
// (a stamp found counts as a use). Stamps go to a temporary LOGTRIAGE_CACHE_DIR.
import { copyFile, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { checkModelOnOpen, stampDir, stampPolicy, verifyCounters } from '../../src/hub/checkModelOnOpen.js';
import { tinyModel } from '../fixtures/index.js';

let dir: string;
let digestId: string;
let source: string;
const defaultMax = stampPolicy.maxStamps;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-stamp-prune-'));
  source = tinyModel('f32');
  digestId = validateLogtriageModel(await readGgufHeader(source)).digest!.id;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async (context) => {
  vi.stubEnv('LOGTRIAGE_CACHE_DIR', join(dir, context.task.name.replace(/\W+/g, '-')));
});
afterEach(() => {
  vi.unstubAllEnvs();
  stampPolicy.maxStamps = defaultMax;
});

const stamps = async () => (await readdir(stampDir()).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
/** Checks `path` as open() does by default; returns how it was checked ('hash' or 'stamp'). */
const check = async (path: string) => (await checkModelOnOpen(path, 'once', digestId)).by;
/** Stamp times are file mtimes: a few ms apart keep the LRU order unambiguous. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

async function copies(n: number): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => join(dir, `${Math.random().toString(36).slice(2)}-${i}.gguf`));
  for (const p of paths) await copyFile(source, p);
  return paths;
}

describe('verification stamps (verify: once)', () => {
  it('removes the stamp of a file that changed or is gone when it writes the next one', async () => {
    const [a, b, c] = await copies(3);
    expect(await check(a!)).toBe('hash');
    expect(await check(b!)).toBe('hash');
    expect(await stamps()).toHaveLength(2);
    const touched = new Date(Date.now() + 5_000);
    await utimes(a!, touched, touched); // a's stamp can never match again
    await rm(b!); // nor b's
    const pruned = verifyCounters.stampsPruned;
    expect(await check(a!)).toBe('hash'); // writes a's new stamp, prunes the two dead ones
    expect(verifyCounters.stampsPruned - pruned).toBe(2);
    expect(await stamps()).toHaveLength(1);
    expect(await check(a!)).toBe('stamp');
    expect(await check(c!)).toBe('hash');
    expect(await stamps()).toHaveLength(2);
    expect(await check(a!)).toBe('stamp');
    expect(await check(c!)).toBe('stamp');
  });

  it('keeps at most maxStamps, dropping the least recently used (a stamp found is a use)', async () => {
    stampPolicy.maxStamps = 3;
    const [a, b, c, d] = await copies(4);
    for (const p of [a, b, c]) {
      expect(await check(p!)).toBe('hash');
      await tick();
    }
    expect(await check(a!)).toBe('stamp'); // a is now the most recently used, b the least
    await tick();
    expect(await check(d!)).toBe('hash'); // a fourth stamp: b's goes
    expect(await stamps()).toHaveLength(3);
    const hashed = verifyCounters.hashed;
    for (const p of [a, c, d]) expect(await check(p!)).toBe('stamp');
    expect(verifyCounters.hashed).toBe(hashed);
    expect(await check(b!)).toBe('hash');
    expect(await stamps()).toHaveLength(3);
  });

  it('removes unreadable stamps and temporary files a dead writer left, not fresh ones', async () => {
    const [a, b] = await copies(2);
    expect(await check(a!)).toBe('hash');
    const folder = stampDir();
    await writeFile(join(folder, 'garbage.json'), '{not json');
    await writeFile(join(folder, 'old.json.123.tmp'), '{}');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(folder, 'old.json.123.tmp'), old, old);
    await writeFile(join(folder, 'fresh.json.456.tmp'), '{}'); // perhaps another process writing now
    expect(await check(b!)).toBe('hash');
    expect((await readdir(folder)).sort()).toEqual([...(await stamps()), 'fresh.json.456.tmp'].sort());
    expect(await stamps()).toHaveLength(2);
  });
});
