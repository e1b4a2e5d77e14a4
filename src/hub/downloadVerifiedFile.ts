// SPDX-License-Identifier: MIT
// Downloads one file into `<path>.part`, resuming what an earlier run left there with a Range
// request, hashes every byte (the kept ones included) and renames it into place only when the
// hub's checksum matches. A mismatch deletes the file: its bytes cannot be trusted to resume.
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { ChecksumError, HubError, LogTriageError } from '../errors.js';
import { checksumFromEtag, type Checksum } from './checksumFromEtag.js';

/** Resumes within one run after a transfer that broke off having made progress. */
export const MAX_RESUMES = 5;

export interface DownloadRequest {
  /** Name in the repo, for messages. */
  readonly file: string;
  /** Where the verified file goes. */
  readonly path: string;
  /** The hub's X-Linked-Etag / ETag and size for the file. */
  readonly etag: string;
  readonly size: number;
  /** A GET of the file from `offset` on (ranged when offset > 0); throws a typed error on an HTTP error. */
  readonly fetchFrom: (offset: number) => Promise<Response>;
  /** Bytes of this file on disk so far; may go back to 0 if the server ignores a Range. */
  readonly onProgress?: (bytesDone: number) => void;
}

async function hashExisting(path: string, checksum: Checksum): Promise<void> {
  for await (const chunk of createReadStream(path)) checksum.update(chunk as Buffer);
}

async function partSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

/** Start offset of a 206 answer, from `Content-Range: bytes <start>-<end>/<size>`. */
function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

export async function downloadVerifiedFile(request: DownloadRequest): Promise<void> {
  const { file, path, size } = request;
  const part = `${path}.part`;
  let checksum = checksumFromEtag(request.etag, size, file);
  let done = await partSize(part);
  if (done > size) {
    await rm(part);
    done = 0;
  }
  if (done > 0) await hashExisting(part, checksum);
  request.onProgress?.(done);

  const handle = await open(part, 'a');
  try {
    let resumes = 0;
    while (done < size) {
      const attemptStart = done;
      try {
        const response = await request.fetchFrom(done);
        if (done > 0 && (response.status !== 206 || rangeStart(response) !== done)) {
          // The server sent the whole file (or another range): start over rather than splice.
          if (response.status === 206) throw new HubError(`Downloading ${file}: asked for bytes from ${done} on, got Content-Range ${response.headers.get('content-range')}`);
          await handle.truncate(0);
          checksum = checksumFromEtag(request.etag, size, file);
          done = 0;
        }
        for await (const chunk of response.body ?? []) {
          await handle.write(chunk);
          checksum.update(chunk);
          done += chunk.length;
          if (done > size) break;
          request.onProgress?.(done);
        }
        if (done < size) throw new Error(`the connection closed after ${done} of ${size} bytes`);
      } catch (error) {
        if (done > attemptStart && resumes < MAX_RESUMES) {
          resumes++;
          continue;
        }
        if (error instanceof LogTriageError) throw error;
        throw new HubError(
          `Downloading ${file} broke off after ${done} of ${size} bytes (${(error as Error).message}); ` +
            'they are kept in the cache: run the same command again to resume',
          { cause: error },
        );
      }
    }
  } finally {
    await handle.close();
  }

  const actual = done === size ? checksum.digest() : `(${done} bytes, not ${size})`;
  if (actual !== checksum.expected) {
    await rm(part, { force: true });
    throw new ChecksumError(
      `${file} failed verification: ${checksum.algorithm} ${actual} does not match the hub's ${checksum.expected}. ` +
        'The download was deleted; run the same command again to fetch it anew',
    );
  }
  await rename(part, path);
}
