// SPDX-License-Identifier: MIT
// SHA-256 of a whole file, streamed: the base model's identity in an adapted head's provenance,
// the same hex `sha256sum` prints.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
