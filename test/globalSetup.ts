// SPDX-License-Identifier: MIT
// Converts the HF parity checkpoint once per test run (F32, F16, Q8_0) with our own converter.
import { mkdirSync } from 'node:fs';
import { convertCheckpoint } from '../src/convert/index.js';
import { modelsDir, tinyCheckpointDir, tinyModel, type TinyModelType } from './fixtures/index.js';

export default async function setup(): Promise<void> {
  mkdirSync(modelsDir, { recursive: true });
  for (const type of ['f32', 'f16', 'q8_0'] as TinyModelType[]) {
    await convertCheckpoint(tinyCheckpointDir(), tinyModel(type), { type });
  }
}
