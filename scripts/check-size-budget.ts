// Checks the bundles' and images' sizes against size-budget.json (issue 18): a change that grows one by
// more than the budget's tolerance fails until the budget is raised, with the reason written next to it.
// Usage: check-size-budget.ts [--bundles] [--images]   (neither: both). Prints one JSON document.
// Images are read from the local engine (agent-fleet/<name>:$AGENT_FLEET_IMAGE_TAG, default the version);
// one that is not built is reported as such, not failed.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { bundle, BUNDLE_TARGETS } from './bundle.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUDGET_FILE = path.join(root, 'size-budget.json');

export interface BudgetEntry {
  bytes: number;
  /** Why the budget is what it is; required, so that raising it says why. */
  reason: string;
}

export interface SizeBudget {
  tolerance: number;
  bundles: Record<string, BudgetEntry>;
  images: Record<string, BudgetEntry>;
}

export interface SizeCheck {
  name: string;
  bytes: number | null;
  budgetBytes: number | null;
  limitBytes: number | null;
  ok: boolean;
  problem?: string;
}

export async function readBudget(file = BUDGET_FILE): Promise<SizeBudget> {
  return JSON.parse(await readFile(file, 'utf8')) as SizeBudget;
}

/** Measured sizes against their entries of the budget; a size with no entry, or an entry with no reason, fails too. */
export function checkSizes(measured: Record<string, number | null>, entries: Record<string, BudgetEntry>, tolerance: number): SizeCheck[] {
  return Object.entries(measured).map(([name, bytes]) => {
    const entry = entries[name];
    if (!entry) return { name, bytes, budgetBytes: null, limitBytes: null, ok: false, problem: 'no budget entry: add one to size-budget.json' };
    const limitBytes = Math.floor(entry.bytes * (1 + tolerance));
    const base = { name, bytes, budgetBytes: entry.bytes, limitBytes };
    if (entry.reason.trim() === '') return { ...base, ok: false, problem: 'the budget entry gives no reason' };
    if (bytes === null) return { ...base, ok: true, problem: 'not built: not checked' };
    if (bytes > limitBytes) {
      const growth = Math.round((bytes / entry.bytes - 1) * 1000) / 10;
      return { ...base, ok: false, problem: `${growth} % over the budget (tolerance ${tolerance * 100} %): raise it in size-budget.json and say why` };
    }
    return { ...base, ok: true };
  });
}

/**
 * Bytes of every output (`.total`), and of what a start loads (`.startup`): the entry, what it imports
 * statically, and what it imports with `import()` itself (for the agent: its runtime and, in Docker, the
 * Vault client), with their static imports; not the chunks those load later (the provider SDKs).
 */
export function bundleSizes(name: string, metafile: Metafile, outdir: string): Record<string, number> {
  const outputs = metafile.outputs;
  const key = (file: string) => path.relative(root, path.resolve(root, file));
  const byPath = new Map(Object.entries(outputs).map(([file, output]) => [key(file), output]));
  const entry = [...byPath.keys()].find((file) => file === key(path.join(outdir, `${name}.mjs`)));
  if (!entry) throw new Error(`no ${name}.mjs among the outputs`);
  const loaded = new Set<string>();
  const visit = (file: string, dynamicToo: boolean) => {
    if (loaded.has(file) || !byPath.has(file)) return;
    loaded.add(file);
    for (const imported of byPath.get(file)!.imports) {
      if (imported.kind === 'import-statement' || (dynamicToo && imported.kind === 'dynamic-import')) visit(key(imported.path), false);
    }
  };
  visit(entry, true);
  const sum = (files: Iterable<string>) => [...files].reduce((total, file) => total + byPath.get(file)!.bytes, 0);
  return { [`${name}.total`]: sum(byPath.keys()), [`${name}.startup`]: sum(loaded) };
}

export async function measureBundles(): Promise<Record<string, number>> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'size-budget-'));
  try {
    const sizes: Record<string, number> = {};
    for (const name of BUNDLE_TARGETS) {
      const { outdir, metafile } = await bundle(name, path.join(work, name));
      Object.assign(sizes, bundleSizes(name, metafile, outdir));
    }
    return sizes;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function measureImages(names: readonly string[], tag: string): Promise<Record<string, number | null>> {
  const run = promisify(execFile);
  const sizes: Record<string, number | null> = {};
  for (const name of names) {
    sizes[name] = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', `${name}:${tag}`]).then(
      ({ stdout }) => Number(stdout.trim()),
      () => null,
    );
  }
  return sizes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { bundles: { type: 'boolean' }, images: { type: 'boolean' } } });
  const both = !values.bundles && !values.images;
  const budget = await readBudget();
  const version = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const tag = process.env['AGENT_FLEET_IMAGE_TAG'] ?? version;
  const checks = [
    ...(both || values.bundles ? checkSizes(await measureBundles(), budget.bundles, budget.tolerance) : []),
    ...(both || values.images ? checkSizes(await measureImages(Object.keys(budget.images), tag), budget.images, budget.tolerance) : []),
  ];
  const ok = checks.every((check) => check.ok);
  console.log(JSON.stringify({ check: 'size-budget', imageTag: tag, tolerance: budget.tolerance, ok, checks }, null, 2));
  if (!ok) process.exitCode = 1;
}

if (import.meta.main) await main();
