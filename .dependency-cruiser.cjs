// Enforces the layer arrows of docs/design/architecture (dependencies point down only):
// cli/server -> app -> engine -> storage/sources/policy -> core.
const layer = (name) => `^src/${name}/`;
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing',
      severity: 'error',
      from: { path: layer('core') },
      to: { path: '^src/(?!core/)' },
    },
    {
      name: 'policy-is-pure',
      severity: 'error',
      from: { path: layer('policy') },
      to: { path: '^src/(?!core/|policy/)' },
    },
    {
      name: 'storage-below-engine',
      severity: 'error',
      from: { path: layer('storage') },
      to: { path: '^src/(engine|app|cli|server|sources|scheduler)/' },
    },
    {
      name: 'sources-below-engine',
      severity: 'error',
      from: { path: layer('sources') },
      to: { path: '^src/(engine|app|cli|server|storage|scheduler)/' },
    },
    {
      name: 'engine-below-app',
      severity: 'error',
      from: { path: layer('engine') },
      to: { path: '^src/(app|cli|server|scheduler)/' },
    },
    {
      name: 'app-below-adapters',
      severity: 'error',
      from: { path: layer('app') },
      to: { path: '^src/(cli|server|scheduler)/' },
    },
    {
      name: 'server-is-an-adapter',
      comment:
        'server/ serves storage over HTTP; it never reaches into the CLI (cli/ may start it).',
      severity: 'error',
      from: { path: layer('server') },
      to: { path: '^src/(cli|scheduler)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'enter-folders-by-index',
      severity: 'error',
      comment: 'Outside a top-level module folder, import its index.ts, not inner files.',
      from: { path: '^src/([^/]+)/', pathNot: '\\.test\\.ts$' },
      to: {
        path: '^src/([^/]+)/.+',
        // storage/s3/index.ts is entered directly: storage/index.ts leaves S3Store out so that
        // importing storage does not load the AWS SDK (see storage/decorators/deferred-store.ts).
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/storage/s3/index\\.ts$'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
