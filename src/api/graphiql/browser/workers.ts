// Monaco runs its language services in web workers. GraphiQL's own
// `setup-workers/*` modules name bundler-specific URLs (`?worker`,
// `new URL(..., import.meta.url)`, esm.sh); here esbuild bundles each worker
// as an entry of its own and defines their hashed URLs at build time
// (src/api/graphiql/build.ts), so the gateway serves every worker and none comes
// from a CDN. Imported before GraphiQL, which starts the workers.
declare const GRAPHIQL_WORKER_URLS: Record<'editor' | 'graphql' | 'json', string>;

(globalThis as { MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker } }).MonacoEnvironment = {
  getWorker(_workerId, label) {
    const url = label === 'graphql' || label === 'json' ? GRAPHIQL_WORKER_URLS[label] : GRAPHIQL_WORKER_URLS.editor;
    return new Worker(url, { name: `monaco-${label}` });
  },
};
