// SPDX-License-Identifier: MIT
// Every ts/js snippet of README.md and docs/api.md runs as written, in plain Node (no TypeScript,
// no flags): a document's snippets in order form one ES module, run in a project that has
// `logtriage` installed (compiled from this repo) and the models the snippets name.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tinyModel } from '../fixtures/index.js';

const DOCS = ['README.md', 'docs/api.md'];

/**
 * The fenced ```ts / ```js blocks of a Markdown file, in order. A block fenced ```typescript is
 * left out: api.md's worker example needs a NATS server and runs until SIGTERM
 * (JetStreamWorker.start is run against a real nats-server in test/worker/).
 */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|js|mjs)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const project = mkdtempSync(join(tmpdir(), 'logtriage-snippets-'));

beforeAll(() => {
  // logtriage as installed: its package.json, the current sources compiled here (not into the
  // repo's dist/, which other test files may be reading), and the repo's built addon.
  const pkg = join(project, 'node_modules', 'logtriage');
  mkdirSync(pkg, { recursive: true });
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', join(pkg, 'dist')], { cwd: repoRoot, encoding: 'utf8' });
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  copyFileSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(repoRoot, 'build'), join(pkg, 'build'), 'dir');
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'snippets', private: true, type: 'module' }));
  mkdirSync(join(project, 'models'));
  // The tiny parity model under the names the snippets use (converted once by test/globalSetup.ts).
  copyFileSync(tinyModel('q8_0'), join(project, 'models', 'logs-q8_0.gguf'));
  copyFileSync(tinyModel('f16'), join(project, 'models', 'logs-f16.gguf'));
}, 300_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('documentation snippets', () => {
  it('README.md has 1 runnable block and docs/api.md 7', () => {
    expect(DOCS.map((doc) => codeBlocks(readFileSync(join(repoRoot, doc), 'utf8')).length)).toEqual([1, 7]);
  });

  it.each(DOCS)('%s: its snippets run as written on this Node', (doc) => {
    const program = codeBlocks(readFileSync(join(repoRoot, doc), 'utf8')).join('\n');
    const file = join(project, `${doc.replace(/\W/g, '_')}.mjs`);
    writeFileSync(file, program);
    const run = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: 540_000 });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status, run.stderr).toBe(0);
  }, 600_000);
});
