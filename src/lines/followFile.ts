// SPDX-License-Identifier: MIT
// `tail -F` for `classify --follow`: reads a file to its end, then keeps reading what is appended,
// and survives rotation. A rename + recreate (logrotate's default) is seen as a new inode at the
// path: the rest of the old file is read, then the new one from its start. A truncation
// (copytruncate, `> file`) is seen as a size below the read position: reading restarts at 0.
// fs.watch on the folder wakes the reader; a poll covers file systems where it stays silent (NFS,
// some containers, inotify limits). A truncation followed by a regrowth past the old size before
// the next look goes unnoticed, as with tail.
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readLogLines, type LogLine, type ReadLogLinesOptions } from './readLogLines.js';

export interface FollowOptions extends ReadLogLinesOptions {
  /** Ends the follow; what was read before still comes out. */
  signal: AbortSignal;
  /** Milliseconds between looks when no fs.watch event came. */
  pollMs?: number;
  /** Rotation, truncation and waiting notices, for stderr. */
  onNotice?: (message: string) => void;
}

export type FollowEvent = { bytes: Uint8Array } | { restart: 'rotated' | 'truncated' };

const READ_BYTES = 64 * 1024;
const DEFAULT_POLL_MS = 500;

/** Wakes a waiting reader on a change event, a poll timeout or the abort. */
class ChangeSignal {
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {}

  notify(): void {
    this.changed = true;
    this.wake?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.changed && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
    this.changed = false;
  }
}

/** Watches the file's folder (a watch on the file itself would follow the renamed inode). */
function watchFolder(path: string, onChange: () => void): FSWatcher | undefined {
  const name = basename(path);
  try {
    const watcher = watch(dirname(path), { persistent: true }, (_event, file) => {
      if (file === null || file === name) onChange();
    });
    watcher.on('error', () => watcher.close()); // polling carries on
    return watcher;
  } catch {
    return undefined; // no fs.watch here: polling alone
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Bytes of `path` as they are written, with a `restart` event before a new or truncated file's bytes. */
export async function* followFile(path: string, options: FollowOptions): AsyncGenerator<FollowEvent> {
  const { signal, pollMs = DEFAULT_POLL_MS, onNotice } = options;
  const changes = new ChangeSignal(signal);
  const watcher = watchFolder(path, () => changes.notify());
  let handle: FileHandle | undefined;

  const openWhenPresent = async (): Promise<FileHandle | undefined> => {
    let told = false;
    while (!signal.aborted) {
      try {
        return await open(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (!told) onNotice?.(`waiting for ${path} to appear`);
      told = true;
      await changes.wait(pollMs);
    }
    return undefined;
  };

  try {
    handle = await openWhenPresent();
    let position = 0;
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    const readMore = async (): Promise<Uint8Array | undefined> => {
      const { bytesRead } = await handle!.read(buffer, 0, READ_BYTES, position);
      position += bytesRead;
      return bytesRead > 0 ? Buffer.from(buffer.subarray(0, bytesRead)) : undefined;
    };

    while (handle !== undefined) {
      const bytes = await readMore();
      if (bytes !== undefined) {
        yield { bytes };
        continue;
      }
      if (signal.aborted) return;
      const [atPath, opened] = await Promise.all([statOrUndefined(path), handle.stat()]);
      if (atPath !== undefined && (atPath.ino !== opened.ino || atPath.dev !== opened.dev)) {
        // Rotated: lines written to the old file since the last read still belong to it.
        for (let rest = await readMore(); rest !== undefined; rest = await readMore()) yield { bytes: rest };
        await handle.close();
        handle = await openWhenPresent();
        position = 0;
        onNotice?.(`${path} was rotated; reading the new file from its start`);
        yield { restart: 'rotated' };
      } else if (opened.size < position) {
        position = 0;
        onNotice?.(`${path} was truncated; reading it again from its start`);
        yield { restart: 'truncated' };
      } else {
        await changes.wait(pollMs);
      }
    }
  } finally {
    watcher?.close();
    await handle?.close();
  }
}

/** Lines of a followed file; line numbers start again at 1 after a rotation or truncation. */
export async function* followLogLines(path: string, options: FollowOptions): AsyncGenerator<LogLine> {
  const events = followFile(path, options);
  let ended = false;
  // One run of readLogLines per file generation, so a partial last line of the old file is not
  // glued to the first line of the new one.
  async function* generation(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = await events.next();
      if (next.done) {
        ended = true;
        return;
      }
      if ('restart' in next.value) return;
      yield next.value.bytes;
    }
  }
  try {
    while (!ended) yield* readLogLines(generation(), { maxLineBytes: options.maxLineBytes });
  } finally {
    await events.return(undefined);
  }
}

/**
 * Items of several async sources as each becomes ready (one source's items stay in order).
 * Used to follow several files at once.
 */
export async function* mergeSources<T>(sources: ReadonlyArray<AsyncIterable<T>>): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) => pending.set(index, iterators[index]!.next().then((result) => ({ index, result })));
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    for (const p of pending.values()) p.catch(() => {});
    await Promise.all([...pending.keys()].map((i) => iterators[i]!.return?.()));
  }
}
