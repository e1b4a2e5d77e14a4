// SPDX-License-Identifier: MIT
// --template-tier and --template-audit on classify, serve, worker and eval become open()'s templateTier;
// without them the option is absent (open() then defaults to false: results as before).
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ENGINE_FLAGS, openOptionsFrom } from '../../src/cli/modelFlags.js';

const parsed = (command: string, args: string[]) => {
  const program = buildProgram();
  const sub = program.commands.find((c) => c.name() === command)!;
  sub.action(() => {});
  program.parse(['node', 'logtriage', command, ...args]);
  return sub.opts();
};

describe('--template-tier / --template-audit', () => {
  it.each(['classify', 'serve', 'worker', 'eval'])('%s declares both flags', (command) => {
    const sub = buildProgram().commands.find((c) => c.name() === command)!;
    expect(sub.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--template-tier', '--template-audit']));
  });

  it('map to templateTier: absent, on with the default audit, on with a given audit', () => {
    expect(openOptionsFrom(parsed('classify', ['app.log']), ENGINE_FLAGS).templateTier).toBeUndefined();
    expect(openOptionsFrom(parsed('classify', ['app.log', '--template-tier']), ENGINE_FLAGS).templateTier).toEqual({});
    expect(openOptionsFrom(parsed('classify', ['--template-audit', '0.2', 'app.log']), ENGINE_FLAGS).templateTier).toEqual({ audit: 0.2 });
    expect(() => parsed('classify', ['--template-audit', '1.5'])).toThrow(/probability/);
  });
});
