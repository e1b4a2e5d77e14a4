// SPDX-License-Identifier: MIT
// maskVariables: what is masked (numbers, ids, addresses, hosts, paths, times, UUIDs, hex) and what is kept.
import { describe, expect, it } from 'vitest';
import { maskVariables } from '../../src/templates/maskVariables.js';

const cases: Array<[string, string]> = [
  ['Invalid user webmaster from 173.234.31.186', 'Invalid user webmaster from <*>'],
  ['Received connection request /10.10.34.11:45307', 'Received connection request /<*>'],
  ['PacketResponder 1 for block blk_-6952295868487656571 terminating', 'PacketResponder <*> for block blk_<*> terminating'],
  ['Deleting block blk_5 file /mnt/hadoop/dfs/data/current/subdir11/blk_5', 'Deleting block blk_<*> file <*>'],
  ['request 0b1d7c52-3c6e-4b0e-9f1e-2a1c9e8b7f00 took 35ms', 'request <*> took <*>'],
  ['close, lifetime <1 sec', 'close, lifetime <*>'],
  ['flushed 2.5 GB in 40 ms, next in 30 seconds', 'flushed <*> in <*>, next in <*> seconds'],
  ['CE sym 2, at 0x0b85eee0, mask 0x05', 'CE sym <*>, at <*>, mask <*>'],
  ['link up on 00:1b:21:3a:4f:5e speed 1000', 'link up on <*> speed <*>'],
  ['connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Fri Jun 17 07:07:00 2005', 'connection from <*> at <*>'],
  ['connection from 222.33.90.199 () at Mon Jun 20 03:40:59 2005', 'connection from <*> at <*>'],
  ['GET https://example.com/a?b=1 returned 503', 'GET <*> returned <*>'],
  ['ask 10.250.18.114:50010 to delete  blk_-51 blk_62 blk_-73', 'ask <*> to delete blk_<*>'],
  ['close, 1033 bytes (1.00 KB) sent, 452 bytes received', 'close, <*> bytes sent, <*> bytes received'],
  ['workerEnv.init() ok', 'workerEnv.init() ok'],
  ['backup done at Sun Jul  3 23:16:09 2005 by cron', 'backup done at <*> by cron'],
  ['expires Jun 17, 2026', 'expires <*>'],
  ['', ''],
];

describe('maskVariables()', () => {
  it.each(cases)('%s', (message, template) => {
    expect(maskVariables(message).join(' ')).toBe(template);
  });
});
