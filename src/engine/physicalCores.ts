// SPDX-License-Identifier: MIT
// Default thread count: physical cores. llama.cpp's matmuls gain nothing from SMT siblings
// (they share the core's vector units) and lose to their contention.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Distinct (physical id, core id) pairs in /proc/cpuinfo, capped by the CPUs this process may use. */
export function physicalCores(cpuinfo?: string): number {
  const logical = availableParallelism();
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return logical;
    }
  }
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
  }
  return cores.size > 0 ? Math.min(cores.size, logical) : logical;
}
