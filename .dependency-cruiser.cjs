/**
 * The layer rules of docs/ARCHITECTURE.md as import boundaries (`npm run lint` runs `depcruise src`):
 * transport → services → domain ← adapters; the domain imports no adapter, service or transport; adapters import no
 * service or transport; services import no transport; only the composition root and the command line build the app;
 * no import cycles.
 */
const TRANSPORT = '^src/(server|cli)/';
const SERVICES = '^src/(agents|chat|ingest|services|accounts|jobs|observability)/';
const DOMAIN = '^src/(workload|optimize|corpus)/';
const ADAPTERS = '^src/(store|db|cache|llm)/';
const ROOT = '^src/(app|bootstrap)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'the domain (workload, optimize, corpus) imports no adapter, service, transport or composition root',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: [ADAPTERS, SERVICES, TRANSPORT, ROOT] },
    },
    {
      name: 'adapters-below-services',
      comment: 'adapters (store, db, cache, llm) import no service, transport or composition root',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: [SERVICES, TRANSPORT, ROOT] },
    },
    {
      name: 'services-below-transport',
      comment: 'services import no transport (server, cli) and not the composition root',
      severity: 'error',
      from: { path: SERVICES },
      to: { path: [TRANSPORT, ROOT] },
    },
    {
      name: 'one-composition-root',
      comment: 'only the command line (and tests) build the app; the server receives its dependencies',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', ROOT] },
      to: { path: ROOT },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles',
      severity: 'error',
      // the analysis SQL folders are being reorganised by query in a parallel branch (their index <-> query-file
      // imports go with it); drop this exception once that lands
      from: { pathNot: '^src/store/(duckdb|clickhouse)-analysis/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // TypeScript 7 (the Go compiler) has no JavaScript API dependency-cruiser can parse with: swc reads the sources
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
