import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { graphiqlAssetsPath } from './paths.js';

/**
 * Bundles GraphiQL (React, Monaco, the explorer plugin, their CSS, fonts and
 * web workers) from node_modules into static files the gateway serves, so
 * the page makes no request beyond the gateway itself. Output:
 *
 *   <outDir>/index.html             the page; refers to the assets below by absolute path
 *   <outDir>/assets/<name>-<hash>.* content-hashed scripts, styles, fonts and workers,
 *                                   each with a gzipped copy (`.gz`) for clients that accept it
 *
 * `npm run build` (scripts/build.mjs) runs it into an empty staging directory when its inputs changed,
 * and moves the result to .build/graphiql, where the gateway serves it from.
 */
const browserDir = path.resolve(import.meta.dirname, 'browser');
const projectDir = path.resolve(import.meta.dirname, '../../..');

/** Monaco's language services, each bundled as a classic worker script of its own. */
const workers = {
  editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
  graphql: 'monaco-graphql/esm/graphql.worker.js',
  json: 'monaco-editor/esm/vs/language/json/json.worker.js',
} as const;

export interface GraphiqlBuild {
  outDir: string;
  /** Size of the assets (scripts, styles, fonts, workers) as written, in bytes. */
  assetBytes: number;
  /** The same, gzipped, as the gateway sends them to a browser. */
  gzippedBytes: number;
  durationMs: number;
}

export async function buildGraphiql(dir: string): Promise<GraphiqlBuild> {
  const started = performance.now();
  const outDir = path.resolve(dir);
  const assetsDir = path.join(outDir, 'assets');
  const { script, style } = await bundle(assetsDir);
  // Monaco makes the scripts large (about 7 MiB, a third of that gzipped); compress once here, not per request.
  for (const name of await readdir(assetsDir)) {
    const file = path.join(assetsDir, name);
    await writeFile(`${file}.gz`, gzipSync(await readFile(file), { level: 9 }));
  }
  await writeFile(path.join(outDir, 'index.html'), indexHtml(script, style));
  return { outDir, ...(await assetSizes(assetsDir)), durationMs: performance.now() - started };
}

/** esbuild's two passes: Monaco's workers first (the page needs their URLs), then the page's script and style. */
async function bundle(assetsDir: string): Promise<{ script: string; style: string }> {
  const common: esbuild.BuildOptions = {
    bundle: true,
    minify: true,
    sourcemap: false,
    target: 'es2022',
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    publicPath: graphiqlAssetsPath,
    metafile: true,
    absWorkingDir: projectDir,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  };

  const workerBuild = await esbuild.build({
    ...common,
    format: 'iife',
    entryPoints: Object.entries(workers).map(([name, specifier]) => ({ in: resolvePackageFile(specifier), out: `${name}.worker` })),
  });
  const workerUrls = Object.fromEntries(
    Object.keys(workers).map((name) => [name, urlOf(outputFor(workerBuild.metafile!, `${name}.worker-`, '.js'), assetsDir)]),
  );

  const appBuild = await esbuild.build({
    ...common,
    format: 'esm',
    jsx: 'automatic',
    entryPoints: [{ in: path.join(browserDir, 'app.tsx'), out: 'app' }],
    define: { ...common.define, GRAPHIQL_WORKER_URLS: JSON.stringify(workerUrls) },
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  });
  const script = urlOf(outputFor(appBuild.metafile!, 'app-', '.js'), assetsDir);
  const style = urlOf(outputFor(appBuild.metafile!, 'app-', '.css'), assetsDir);
  return { script, style };
}

function indexHtml(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>oddsgate · GraphiQL</title>
    <!-- An empty icon: the browser asks for nothing else. -->
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${style}" />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="module" src="${script}"></script>
  </body>
</html>
`;
}

/** A package's file as a path, resolved the way an ESM import of it would be. */
function resolvePackageFile(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

function outputFor(metafile: esbuild.Metafile, prefix: string, extension: string): string {
  const found = Object.keys(metafile.outputs).filter((file) => path.basename(file).startsWith(prefix) && file.endsWith(extension));
  if (found.length !== 1) throw new Error(`GraphiQL build: expected one ${prefix}*${extension} output, found ${found.length}`);
  return found[0]!;
}

function urlOf(outputFile: string, assetsDir: string): string {
  return `${graphiqlAssetsPath}/${path.relative(assetsDir, path.resolve(projectDir, outputFile))}`;
}

async function assetSizes(dir: string): Promise<{ assetBytes: number; gzippedBytes: number }> {
  const sizes = { assetBytes: 0, gzippedBytes: 0 };
  for (const name of await readdir(dir)) {
    const { size } = await stat(path.join(dir, name));
    if (name.endsWith('.gz')) sizes.gzippedBytes += size;
    else sizes.assetBytes += size;
  }
  return sizes;
}
