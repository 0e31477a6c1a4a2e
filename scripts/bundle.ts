// Bundles an entry point for an image, so images carry no node_modules and no sources.
// Usage: bundle.ts <agent|orchestrator> [--outdir <dir>]. bundle() serves the size-budget check too.
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireBanner = {
  js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

/** Whether Node loads `file` as CommonJS: `.cjs`, or `.js` whose nearest package.json is not `"type": "module"`. */
async function isCommonJsFile(file: string): Promise<boolean> {
  if (file.endsWith('.cjs')) return true;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = await readFile(path.join(dir, 'package.json'), 'utf8').catch(() => null);
    if (manifest !== null) return (JSON.parse(manifest) as { type?: string }).type !== 'module';
  }
  return true;
}

/**
 * With code splitting, esbuild turns a package that is CommonJS into a chunk exporting only `default`, so a
 * dependency's `(await import('pkg')).Named` (gaxios does this for https-proxy-agent) gets undefined. A
 * dynamic import of a CommonJS package is routed through a small ES module that re-exports its named
 * exports, read from the package itself at build time.
 */
const cjsNamedExportsOfDynamicImports: Plugin = {
  name: 'cjs-named-exports-of-dynamic-imports',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === 'real') return undefined;
      const real = await build.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (real.errors.length > 0 || real.external || !/\.c?js$/.test(real.path)) return undefined;
      if (!(await isCommonJsFile(real.path))) return undefined;
      const loaded = createRequire(real.path)(real.path) as object;
      const names = Object.keys(loaded).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
      return { path: real.path, namespace: 'cjs-named', pluginData: names };
    });
    build.onLoad({ filter: /.*/, namespace: 'cjs-named' }, (args) => {
      const names = args.pluginData as string[];
      const source = JSON.stringify(args.path);
      return {
        // `export { local as name }`: a package may export a reserved word (express's `static`).
        contents: `import * as m from ${source};\nexport default m.default;\n${names.map((name, index) => `const n${index} = m[${JSON.stringify(name)}];\nexport { n${index} as ${name} };`).join('\n')}\n`,
        resolveDir: path.dirname(args.path),
        loader: 'js',
      };
    });
  },
};

export type BundleTarget = 'agent' | 'orchestrator';

interface Target {
  /** Default output directory (relative to the repository root); emptied before each build. */
  outdir: string;
  options: BuildOptions;
}

const targets: Record<BundleTarget, Target> = {
  // The agent starts under a 0.5-CPU quota, so its start is mostly V8 compiling code: the provider SDKs
  // (googleapis, Graph, Anthropic, mail parsing) go to chunks loaded only when the introduction connects
  // the client's provider (their `import()` in connectors-from-secrets.ts), and everything is minified.
  // keepNames: class and function names stay readable in logged errors. The entry `agent.mjs` runs the
  // agent; `prime-compile-cache.mjs` is run once at image build to fill V8's compile cache (Dockerfile).
  agent: {
    outdir: '.build/agent/app',
    options: {
      entryPoints: { agent: 'agent-image/src/main.ts', 'prime-compile-cache': 'agent-image/src/startup/prime-compile-cache.ts' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      minify: true,
      keepNames: true,
      external: [],
      plugins: [cjsNamedExportsOfDynamicImports],
    },
  },
  orchestrator: {
    outdir: '.build/orchestrator',
    options: {
      entryPoints: { orchestrator: 'orchestrator/src/main.ts' },
      outExtension: { '.js': '.mjs' },
      minify: false,
      // PGlite loads its WebAssembly and data files next to its own module: shipped as a package instead.
      external: ['@electric-sql/pglite', 'cpu-features', 'ssh2'],
    },
  },
};

export const BUNDLE_TARGETS = Object.keys(targets) as BundleTarget[];

/** Builds `name` into `outdir` (default: its directory under .build) and returns esbuild's metafile. */
export async function bundle(name: BundleTarget, outdir?: string): Promise<{ outdir: string; metafile: Metafile }> {
  const selected = targets[name];
  const resolved = path.resolve(root, outdir ?? selected.outdir);
  // Chunk names carry content hashes: stale chunks of an earlier build must not ship. The orchestrator's
  // directory also holds its image context, so only the agent's (a directory of its own) is emptied.
  if (name === 'agent') await rm(resolved, { recursive: true, force: true });
  const { metafile } = await build({
    absWorkingDir: root,
    outdir: resolved,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    banner: requireBanner,
    metafile: true,
    ...selected.options,
  });
  if (!metafile) throw new Error('esbuild returned no metafile');
  return { outdir: resolved, metafile };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { outdir: { type: 'string' } } });
  const name = positionals[0] ?? '';
  if (!(BUNDLE_TARGETS as string[]).includes(name)) {
    console.error(`usage: bundle.ts <${BUNDLE_TARGETS.join('|')}> [--outdir <dir>]`);
    process.exit(2);
  }
  console.log((await bundle(name as BundleTarget, values.outdir)).outdir);
}
