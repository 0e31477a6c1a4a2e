/**
 * Run once at image build (agent-image/Dockerfile), with NODE_COMPILE_CACHE set: loads every module of
 * the agent's bundle without starting the agent (its entry runs only as the main module), so V8's compile
 * cache holds them, then makes the cache readable by the agent's user. The image's root is read-only at
 * run time: the cache is only ever read there.
 */
import { chmod, readdir } from 'node:fs/promises';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.mjs')).map((entry) => path.join(entry.parentPath, entry.name));
}

async function prime(): Promise<void> {
  const cacheDir = getCompileCacheDir();
  if (cacheDir === undefined) throw new Error('NODE_COMPILE_CACHE is not set: nothing to prime');
  const self = import.meta.filename;
  for (const file of await filesUnder(import.meta.dirname)) {
    if (file !== self) await import(pathToFileURL(file).href);
  }
  flushCompileCache();
  await chmod(cacheDir, 0o755);
  for (const entry of await readdir(cacheDir, { withFileTypes: true, recursive: true })) {
    await chmod(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  console.log(`compile cache primed in ${cacheDir}`);
}

await prime();
// Some modules of the bundle keep handles open once loaded (timers, sockets of SDK clients): not needed here.
process.exit(0);
