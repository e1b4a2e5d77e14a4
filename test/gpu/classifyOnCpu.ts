// SPDX-License-Identifier: MIT
// Child entry for vulkan.integration.test.ts: opens the tiny model with gpu: 'cpu' and classifies
// a batch long enough for llama.cpp's op offload (32+ tokens), with llama.cpp's log on stderr.
import { LogClassifier } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';

const clf = await LogClassifier.open(tinyModel('f32'), { threads: 1, gpu: 'cpu' });
const line = (i: number) => `kernel: [${i}] eth0: link down, carrier lost on port ${i}; renegotiating 1000baseT full duplex`;
const results = await clf.classifyMany(Array.from({ length: 8 }, (_, i) => line(i)));
console.log(`${clf.info.backend} ${results.length}`);
await clf.dispose();
