// `npm run build:graphiql [-- --force]`: bundles the GraphiQL page into .build/graphiql (skipped when its inputs are unchanged).
import { buildGraphiql } from '../api/graphiql/build.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--force');
  if (unknown.length) throw new RangeError(`build:graphiql: unknown argument ${unknown.join(' ')} (only --force)`);
  const build = await buildGraphiql({ force: args.includes('--force') });
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const size = `${mib(build.assetBytes)}, ${mib(build.gzippedBytes)} gzipped`;
  console.log(
    build.skipped
      ? `GraphiQL bundle unchanged (${size} in ${build.outDir})`
      : `GraphiQL bundled in ${(build.durationMs / 1000).toFixed(1)} s: ${size} in ${build.outDir}`,
  );
});
