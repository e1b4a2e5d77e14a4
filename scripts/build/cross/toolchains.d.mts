// SPDX-License-Identifier: MIT
// Types of toolchains.mjs for the TypeScript tests that fetch Node's Windows build with it.
export interface PinnedNpmPackage {
  name: string;
  version: string;
  integrity: string;
}
export const ZIG: PinnedNpmPackage;
export const NODE_WINDOWS: PinnedNpmPackage;
export class ToolchainError extends Error {}
export function cacheRoot(): string;
export function fetchNpmPackage(pkg: PinnedNpmPackage, cacheRoot: string): string;
export function prebuiltLibraries(platform: string, cacheRoot: string): string;
export function prepareToolchain(platform: string, cacheRoot: string): Record<string, string>;
