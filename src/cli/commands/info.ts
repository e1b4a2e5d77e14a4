// SPDX-License-Identifier: MIT
// `logtriage info [--model m.gguf] [--devices]`: JSON on stdout.
import { loadBinding } from '../../binding.js';
import { LogClassifier } from '../../classifier.js';

export async function infoCommand(options: { model?: string; devices?: boolean }): Promise<void> {
  const out: Record<string, unknown> = {};
  if (options.devices || !options.model) {
    const binding = loadBinding();
    out.llamaRelease = binding.llamaRelease;
    out.devices = binding.devices();
    out.systemInfo = binding.systemInfo().trim();
  }
  if (options.model) {
    const clf = await LogClassifier.open(options.model, { gpu: 'auto' });
    out.model = clf.info;
    await clf.dispose();
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
