// SPDX-License-Identifier: MIT
// Every request `logtriage pull` makes to a hub (huggingface.co or the HF_ENDPOINT mirror) for
// one repo. @huggingface/hub resolves the revision and lists the files; file metadata and bytes
// are plain requests because pull needs what that client does not give: the X-Linked-Etag of an
// LFS redirect (it follows the redirect and reads the CDN's headers) and ranged GETs that tell
// a 206 from a 200 (WebBlob.slice does not), which resuming depends on.
import { listFiles, modelInfo } from '@huggingface/hub';
import { HubError, ValidationError } from '../errors.js';
import { hubFailure, hubStatusError, type HubRequestContext } from './hubRequestError.js';
import type { HubSettings } from './readHubSettings.js';

export interface HubFileMetadata {
  /** X-Linked-Etag (LFS: sha256) or ETag (git blob id), as sent. */
  readonly etag: string;
  readonly size: number;
}

/** Same-origin redirects followed while reading metadata (renamed repos); a cross-origin one is the CDN. */
const MAX_SAME_ORIGIN_REDIRECTS = 5;

export class HubClient {
  readonly context: HubRequestContext;
  private readonly accessToken: string | undefined;

  constructor(settings: Pick<HubSettings, 'endpoint' | 'token'>, readonly repoId: string) {
    if (settings.token !== undefined && !settings.token.startsWith('hf_')) {
      throw new ValidationError('Expected a HuggingFace access token (hf_…) for HF_TOKEN but received a value that does not start with hf_');
    }
    this.accessToken = settings.token;
    this.context = { endpoint: settings.endpoint, repoId, hasToken: settings.token !== undefined };
  }

  /** The commit `revision` (branch, tag or commit) points to now. */
  async resolveCommit(revision: string): Promise<string> {
    const what = `Resolving ${this.repoId}@${revision}`;
    const info = await modelInfo({ name: this.repoId, revision, additionalFields: ['sha'], ...this.clientParams() }).catch((error: unknown) => {
      throw hubFailure(error, this.context, what);
    });
    if (typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha)) {
      throw new HubError(`${what}: the hub answered without a commit hash (sha: ${JSON.stringify(info.sha)})`);
    }
    return info.sha;
  }

  /** Files at the top of the repo at `commit`, with their sizes. */
  async listTopLevelFiles(commit: string): Promise<Map<string, number>> {
    const files = new Map<string, number>();
    try {
      for await (const entry of listFiles({ repo: { type: 'model', name: this.repoId }, revision: commit, ...this.clientParams() })) {
        if (entry.type === 'file') files.set(entry.path, entry.size);
      }
    } catch (error) {
      throw hubFailure(error, this.context, `Listing the files of ${this.repoId}@${commit}`);
    }
    return files;
  }

  fileUrl(commit: string, file: string): string {
    return `${this.context.endpoint}/${this.repoId}/resolve/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** ETag and size from a HEAD on the resolve URL, read before any CDN redirect as huggingface_hub does. */
  async fileMetadata(commit: string, file: string): Promise<HubFileMetadata> {
    const what = `Checking ${this.repoId}/${file}`;
    let url = this.fileUrl(commit, file);
    for (let redirects = 0; ; redirects++) {
      const response = await this.request(url, { method: 'HEAD', redirect: 'manual' }, what);
      const location = response.headers.get('location');
      const redirected = response.status >= 300 && response.status < 400 && location !== null;
      if (redirected && new URL(location, url).origin === new URL(url).origin && redirects < MAX_SAME_ORIGIN_REDIRECTS) {
        url = new URL(location, url).href;
        continue;
      }
      if (!redirected && !response.ok) {
        throw hubStatusError(response.status, this.context, what, response.headers.get('x-error-message') ?? undefined);
      }
      const etag = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
      const size = Number(response.headers.get('x-linked-size') ?? response.headers.get('content-length') ?? NaN);
      if (etag === null) throw new HubError(`${what}: the hub sent no ETag, so the file cannot be verified`);
      if (!Number.isSafeInteger(size) || size < 0) throw new HubError(`${what}: the hub sent no file size`);
      return { etag, size };
    }
  }

  /**
   * GET of `file` from byte `offset` on (a Range request when offset > 0), following the CDN
   * redirect; fetch drops the Authorization header when the redirect leaves the hub's origin.
   */
  async fetchFile(commit: string, file: string, offset: number): Promise<Response> {
    const what = `Downloading ${this.repoId}/${file}`;
    const response = await this.request(this.fileUrl(commit, file), offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}, what);
    if (!response.ok) {
      await response.body?.cancel();
      throw hubStatusError(response.status, this.context, what, response.headers.get('x-error-message') ?? undefined);
    }
    return response;
  }

  private clientParams(): { hubUrl: string; accessToken?: string } {
    return { hubUrl: this.context.endpoint, ...(this.accessToken === undefined ? {} : { accessToken: this.accessToken }) };
  }

  private async request(url: string, init: RequestInit, what: string): Promise<Response> {
    const headers = new Headers(init.headers);
    // Identity encoding: sizes and Range offsets must count the file's own bytes.
    headers.set('accept-encoding', 'identity');
    if (this.accessToken !== undefined) headers.set('authorization', `Bearer ${this.accessToken}`);
    try {
      return await fetch(url, { ...init, headers });
    } catch (error) {
      throw hubFailure(error, this.context, what);
    }
  }
}
