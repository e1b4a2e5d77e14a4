// SPDX-License-Identifier: MIT
// A HuggingFace hub on loopback, serving checkpoint folders with the hub's URL layout and headers:
//   GET  /api/models/{repo}/revision/{rev}   model info with the commit `sha`
//   GET  /api/models/{repo}/tree/{rev}       file listing (oid, size, lfs.oid for *.safetensors)
//   HEAD|GET /{repo}/resolve/{rev}/{file}    git files: 200/206 with ETag = git blob id;
//                                            LFS files: 302 to the CDN with X-Linked-Etag = sha256
// The CDN is a second server (another origin, like the real one). Both honour Range, record
// every request, and can cut a transfer short, flip a byte or ignore Range on demand.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const FAKE_TOKEN = 'hf_fakeReaderToken';

export interface FakeRepo {
  readonly dir: string;
  /** 40 hex digits; `main` resolves to it. */
  readonly commit: string;
  /** Files need `Authorization: Bearer FAKE_TOKEN` (401 without a token, 403 with another). */
  readonly gated?: boolean;
}

export interface SeenRequest {
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly authorization: string | undefined;
}

interface HostedFile {
  readonly content: Buffer;
  readonly sha256: string;
  readonly gitSha1: string;
  readonly lfs: boolean;
}

export class FakeHub {
  readonly requests: SeenRequest[] = [];
  private readonly files = new Map<string, Map<string, HostedFile>>();
  private readonly cuts = new Map<string, { afterBytes: number; times: number }>();
  private readonly corrupted = new Set<string>();
  private readonly rangeIgnored = new Set<string>();
  private hub!: Server;
  private cdn!: Server;

  private constructor(private readonly repos: Readonly<Record<string, FakeRepo>>) {
    for (const [repoId, repo] of Object.entries(repos)) {
      const hosted = new Map<string, HostedFile>();
      for (const name of readdirSync(repo.dir).sort()) {
        const content = readFileSync(join(repo.dir, name));
        hosted.set(name, {
          content,
          sha256: createHash('sha256').update(content).digest('hex'),
          gitSha1: createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex'),
          lfs: name.endsWith('.safetensors'),
        });
      }
      this.files.set(repoId, hosted);
    }
  }

  static async start(repos: Readonly<Record<string, FakeRepo>>): Promise<FakeHub> {
    const fake = new FakeHub(repos);
    fake.hub = await listen((req, res) => fake.serveHub(req, res));
    fake.cdn = await listen((req, res) => fake.serveCdn(req, res));
    return fake;
  }

  get endpoint(): string {
    return origin(this.hub);
  }

  /** The next `times` transfers of `file` end after `afterBytes` bytes, the connection dropped. */
  cutTransfers(repoId: string, file: string, afterBytes: number, times: number): void {
    this.cuts.set(`${repoId}/${file}`, { afterBytes, times });
  }

  /** `file` is served with its middle byte flipped, under its true ETag. */
  corrupt(repoId: string, file: string): void {
    this.corrupted.add(`${repoId}/${file}`);
  }

  /** `file` is always sent whole with a 200, as by a server without Range support. */
  ignoreRange(repoId: string, file: string): void {
    this.rangeIgnored.add(`${repoId}/${file}`);
  }

  /** Requests for `file` of `repoId` (resolve and CDN), oldest first. */
  requestsFor(repoId: string, file: string): SeenRequest[] {
    const sha = this.files.get(repoId)?.get(file)?.sha256;
    return this.requests.filter((r) => r.path.startsWith(`/${repoId}/resolve/`) ? r.path.endsWith(`/${file}`) : r.path === `/lfs/${sha}`);
  }

  reset(): void {
    this.requests.length = 0;
    this.cuts.clear();
    this.corrupted.clear();
    this.rangeIgnored.clear();
  }

  async close(): Promise<void> {
    await Promise.all([this.hub, this.cdn].map((s) => new Promise((resolve) => s.close(resolve))));
  }

  private record(server: SeenRequest['server'], req: IncomingMessage): string {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ server, method: req.method ?? 'GET', path, range: req.headers.range, authorization: req.headers.authorization });
    return path;
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    const parts = this.record('hub', req).split('/').slice(1).map(decodeURIComponent);
    const api = parts[0] === 'api' && parts[1] === 'models';
    const [owner, name, kind, ...rest] = api ? parts.slice(2) : parts;
    const repoId = `${owner}/${name}`;
    const repo = this.repos[repoId];
    const files = this.files.get(repoId);
    if (!repo || !files) return fail(res, 404, 'RepoNotFound', 'Repository not found');
    const [revision = '', ...fileParts] = rest;
    if (revision !== 'main' && revision !== repo.commit) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);

    if (api && kind === 'revision') {
      return json(res, {
        _id: '0'.repeat(24), id: repoId, sha: repo.commit, private: false, gated: repo.gated ? 'manual' : false,
        downloads: 0, likes: 0, lastModified: '2025-01-01T00:00:00.000Z', pipeline_tag: 'text-classification',
      });
    }
    if (api && kind === 'tree') {
      return json(res, [...files].map(([path, f]) => ({
        type: 'file', path, size: f.content.length, oid: f.lfs ? sha1Hex(`pointer ${f.sha256}`) : f.gitSha1,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 134 } } : {}),
      })));
    }
    if (api || kind !== 'resolve') return fail(res, 404, 'EntryNotFound', 'Not found');

    const fileName = fileParts.join('/');
    const file = files.get(fileName);
    if (!file) return fail(res, 404, 'EntryNotFound', `${fileName} does not exist on "${revision}"`);
    if (repo.gated && req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
      return req.headers.authorization
        ? fail(res, 403, 'GatedRepo', `Access to model ${repoId} is restricted and you are not in the authorized list.`)
        : fail(res, 401, 'GatedRepo', `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it.`);
    }
    if (file.lfs) {
      res.writeHead(302, {
        location: `${origin(this.cdn)}/lfs/${file.sha256}`,
        etag: `"${sha1Hex(`pointer ${file.sha256}`)}"`,
        'x-linked-etag': `"${file.sha256}"`,
        'x-linked-size': String(file.content.length),
        'x-repo-commit': repo.commit,
      });
      return void res.end();
    }
    this.serveBytes(req, res, `${repoId}/${fileName}`, file, { etag: `"${file.gitSha1}"`, 'x-repo-commit': repo.commit });
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    const sha = this.record('cdn', req).replace(/^\/lfs\//, '');
    for (const [repoId, files] of this.files) {
      for (const [name, file] of files) {
        if (file.lfs && file.sha256 === sha) return this.serveBytes(req, res, `${repoId}/${name}`, file, { etag: `"${sha}"` });
      }
    }
    fail(res, 404, 'EntryNotFound', 'No such object');
  }

  private serveBytes(req: IncomingMessage, res: ServerResponse, key: string, file: HostedFile, headers: Record<string, string>): void {
    const size = file.content.length;
    const range = this.rangeIgnored.has(key) ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
    let content = file.content;
    if (this.corrupted.has(key)) {
      content = Buffer.from(content);
      content[size >> 1]! ^= 0xff;
    }
    const body = content.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = this.cuts.get(key);
    if (cut && cut.times > 0 && cut.afterBytes < body.length) {
      cut.times--;
      return void res.write(body.subarray(0, cut.afterBytes), () => res.destroy());
    }
    res.end(body);
  }
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function origin(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
  res.end(JSON.stringify({ error: message }));
}
