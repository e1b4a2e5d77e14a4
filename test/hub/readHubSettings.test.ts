// SPDX-License-Identifier: MIT
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { readHubSettings } from '../../src/hub/readHubSettings.js';

const home = mkdtempSync(join(tmpdir(), 'logtriage-hf-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('readHubSettings()', () => {
  it('defaults to huggingface.co, no token, online, ~/.cache/logtriage', () => {
    expect(readHubSettings({ HF_HOME: home })).toEqual({
      endpoint: 'https://huggingface.co',
      token: undefined,
      offline: false,
      cacheDir: join(homedir(), '.cache', 'logtriage'),
    });
  });

  it('honours HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, LOGTRIAGE_CACHE_DIR and XDG_CACHE_HOME', () => {
    const env = { HF_ENDPOINT: 'https://hf-mirror.example/', HF_TOKEN: 'hf_abc\n', HF_HUB_OFFLINE: 'yes', LOGTRIAGE_CACHE_DIR: '/srv/models' };
    expect(readHubSettings(env)).toEqual({ endpoint: 'https://hf-mirror.example', token: 'hf_abc', offline: true, cacheDir: '/srv/models' });
    expect(readHubSettings({ HF_HOME: home, XDG_CACHE_HOME: '/xdg' }).cacheDir).toBe('/xdg/logtriage');
    for (const value of ['0', 'false', 'no', '']) expect(readHubSettings({ HF_HOME: home, HF_HUB_OFFLINE: value }).offline, value).toBe(false);
  });

  it('falls back to the token file `hf auth login` writes', () => {
    writeFileSync(join(home, 'token'), 'hf_fromFile\n');
    expect(readHubSettings({ HF_HOME: home }).token).toBe('hf_fromFile');
    expect(readHubSettings({ HF_HOME: home, HF_TOKEN: 'hf_env' }).token).toBe('hf_env');
  });

  it('refuses an HF_ENDPOINT that is not an http(s) URL', () => {
    expect(() => readHubSettings({ HF_ENDPOINT: 'huggingface.co' })).toThrow(ValidationError);
    expect(() => readHubSettings({ HF_ENDPOINT: 'ftp://mirror' })).toThrow(/HF_ENDPOINT/);
  });
});
