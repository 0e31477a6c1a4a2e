// Bundles an entry point into one ESM file for an image, so images carry no node_modules and no sources.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entries: Record<string, { entry: string; out: string; external: string[] }> = {
  agent: { entry: 'agent-image/src/main.ts', out: '.build/agent/agent.mjs', external: [] },
  orchestrator: {
    entry: 'orchestrator/src/main.ts',
    out: '.build/orchestrator/orchestrator.mjs',
    // PGlite loads its WebAssembly and data files next to its own module: shipped as a package instead.
    external: ['@electric-sql/pglite', 'cpu-features', 'ssh2'],
  },
};

const target = process.argv[2] ?? '';
const selected = entries[target];
if (!selected) {
  console.error(`usage: bundle.ts <${Object.keys(entries).join('|')}>`);
  process.exit(2);
}
await build({
  absWorkingDir: root,
  entryPoints: [selected.entry],
  outfile: selected.out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  external: selected.external,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
console.log(selected.out);
