// SPDX-License-Identifier: MIT
// The engine pin as the tests see it: the node-llama-cpp version of package.json's devDependency
// and the llama.cpp release that version's package ships. Tests compare against these instead of
// literals, so moving the engine (docs/performance.md, "Moving the engine") edits no test.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** package.json's devDependency on node-llama-cpp: an exact version, the pin. */
export const PINNED_NODE_LLAMA_CPP: string = rootPackage.devDependencies['node-llama-cpp']!;

/** The llama.cpp release of the installed node-llama-cpp (its llama/binariesGithubRelease.json). */
export function pinnedLlamaRelease(): string {
  // node-llama-cpp's exports hide its package.json, so the folder is found directly (a dev dependency at the root).
  const nlcDir = join(repoRoot, 'node_modules', 'node-llama-cpp');
  return (JSON.parse(readFileSync(join(nlcDir, 'llama', 'binariesGithubRelease.json'), 'utf8')) as { release: string }).release;
}

/** The NODE_LLAMA_CPP_VERSION constant as written in a source file (scripts/build/platforms.mjs, src/engine/gpuBackends.ts). */
export function versionConstantIn(file: string): string | undefined {
  return /export const NODE_LLAMA_CPP_VERSION = '([^']+)'/.exec(readFileSync(join(repoRoot, file), 'utf8'))?.[1];
}
