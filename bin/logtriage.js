#!/usr/bin/env node
// SPDX-License-Identifier: MIT
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
