// SPDX-License-Identifier: MIT
// The `logtriage` CLI from source, for tests that need the child process itself (signals, a pty):
// `node --import tsx test/cli/cliEntry.ts classify …`.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(['node', 'logtriage', ...process.argv.slice(2)]);
