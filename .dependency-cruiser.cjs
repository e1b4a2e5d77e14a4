// SPDX-License-Identifier: MIT
// The house rules of src/, checked by `npm run imports` and test/house/imports.test.ts: no circles,
// and every import points down — the library never reaches the programs built on it (cli, server,
// worker, label page), the programs never borrow from each other, and the lower floors (the
// engine, the GGUF format, records) never reach the rooms above them. Type-only imports count.
const LIBRARY_ROOMS = '^src/(engine|gguf|records|calibration|evaluation|adapt|templates|convert|hub|lines)/';
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'library-below-programs',
      comment: 'The library (and its public entry files) never imports the CLI, the server, the worker or the label page.',
      severity: 'error',
      from: { path: `${LIBRARY_ROOMS}|^src/[^/]+\\.ts$` },
      to: { path: '^src/(cli|server|worker|label)/' },
    },
    { name: 'server-not-worker', severity: 'error', from: { path: '^src/server/' }, to: { path: '^src/(worker|cli|label)/' } },
    { name: 'worker-not-server', severity: 'error', from: { path: '^src/worker/' }, to: { path: '^src/(server|cli|label)/' } },
    {
      name: 'engine-is-a-floor',
      comment: 'The runtime knows the model format and the base files, nothing above.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(?!engine/|gguf/|errors\\.ts|options\\.ts)' },
    },
    {
      name: 'gguf-is-a-floor',
      comment: 'The model format (keys, header, digest) reads and writes files; it knows no math, no runtime.',
      severity: 'error',
      from: { path: '^src/gguf/' },
      to: { path: '^src/(?!gguf/|errors\\.ts|options\\.ts)' },
    },
    {
      name: 'records-are-a-floor',
      severity: 'error',
      from: { path: '^src/records/' },
      to: { path: '^src/(?!records/|errors\\.ts|LogClassifier\\.ts|engine/LinePreparer\\.ts)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
