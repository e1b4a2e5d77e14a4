// SPDX-License-Identifier: MIT
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { physicalCores } from '../../src/engine/physicalCores.js';

const cpu = (processor: number, physical: number, core: number) =>
  `processor\t: ${processor}\nmodel name\t: Test CPU\nphysical id\t: ${physical}\ncore id\t\t: ${core}\n`;

describe('physicalCores()', () => {
  it('counts SMT siblings once, across sockets, capped by the CPUs this process may use', () => {
    // 2 sockets x 2 cores x 2 threads = 8 logical CPUs, 4 physical cores.
    const info = [cpu(0, 0, 0), cpu(1, 0, 1), cpu(2, 1, 0), cpu(3, 1, 1), cpu(4, 0, 0), cpu(5, 0, 1), cpu(6, 1, 0), cpu(7, 1, 1)].join('\n');
    expect(physicalCores(info)).toBe(Math.min(4, availableParallelism()));
  });

  it('falls back to the logical count when the topology is not listed', () => {
    expect(physicalCores('processor\t: 0\nmodel name\t: ARM\n\nprocessor\t: 1\n')).toBe(availableParallelism());
  });
});
