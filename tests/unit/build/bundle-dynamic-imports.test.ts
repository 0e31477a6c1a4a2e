// The agent bundle is split into chunks loaded with import(): every name the code takes from a chunk it
// imports that way must be one the chunk exports. (esbuild gives a CommonJS package's chunk only a default
// export; gaxios's `(await import('https-proxy-agent')).HttpsProxyAgent` was undefined in the image, so
// Gmail through the egress proxy failed with "is not a constructor".)
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { bundle } from '../../../scripts/bundle.ts';

/** The names a chunk exports: `export{a as B,c as default}` and `export default`. */
function exportsOf(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of (match[1] ?? '').split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  if (/export default/.test(source)) names.add('default');
  return names;
}

/** What each dynamic import takes: `(await import("./x.mjs")).Name` and `{Name:a,Other:b}=await import("./x.mjs")`. */
function takenFrom(source: string): { chunk: string; name: string }[] {
  const taken: { chunk: string; name: string }[] = [];
  for (const match of source.matchAll(/import\("\.\/([^"]+)"\)\)\.([A-Za-z_$][\w$]*)/g)) taken.push({ chunk: match[1] ?? '', name: match[2] ?? '' });
  for (const match of source.matchAll(/\{([^{}]*)\}=await import\("\.\/([^"]+)"\)/g)) {
    for (const part of (match[1] ?? '').split(',')) {
      const name = part.split(':')[0]?.trim();
      if (name) taken.push({ chunk: match[2] ?? '', name });
    }
  }
  return taken;
}

describe('the agent bundle’s lazily loaded chunks', () => {
  let outdir = '';
  after(() => rm(outdir, { recursive: true, force: true }));

  test('every name taken from a dynamically imported chunk is exported by it', async () => {
    outdir = await mkdtemp(path.join(tmpdir(), 'agent-bundle-'));
    await bundle('agent', outdir);
    const files = [path.join(outdir, 'agent.mjs'), ...(await readdir(path.join(outdir, 'chunks'))).map((name) => path.join(outdir, 'chunks', name))];
    const sources = new Map(await Promise.all(files.map(async (file) => [path.basename(file), await readFile(file, 'utf8')] as const)));
    const missing: string[] = [];
    let checked = 0;
    for (const [file, source] of sources) {
      for (const { chunk, name } of takenFrom(source)) {
        checked += 1;
        const target = sources.get(path.basename(chunk));
        if (!target || !exportsOf(target).has(name)) missing.push(`${file} takes ${name} from ${chunk}`);
      }
    }
    assert.ok(checked >= 5, `the checker found the dynamic imports (${checked})`);
    assert.deepEqual(missing, []);
    // And they are defined when the chunk runs (an export can exist and still be undefined).
    const undefinedNames: string[] = [];
    for (const [file, source] of sources) {
      for (const { chunk, name } of takenFrom(source)) {
        const loaded = (await import(path.join(outdir, 'chunks', path.basename(chunk)))) as Record<string, unknown>;
        if (loaded[name] === undefined) undefinedNames.push(`${file} takes ${name} from ${chunk}: undefined`);
      }
    }
    assert.deepEqual(undefinedNames, []);
  });
});
