// The volume swap program a restore's helper runs, against a temporary directory standing in for the client's
// volume. Its journal lives in that volume, which a compromised agent can write: whatever the agent leaves
// there (a forged journal, a link, a planted `.restore-previous`), recovery ends, stays inside the volume,
// never mixes the agent's files into the staged tree being swapped in, and real interruptions still roll back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { volumeSwapScript } from '../../../orchestrator/src/adapters/docker/volume-swap-script.ts';

const run = promisify(execFile);
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const STAGING = '.restore-staging-b20260101-abc123';
const JOURNAL = '.restore-journal.json';

function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A volume holding `files` (path → content; directories made as needed). */
function volumeWith(files: Record<string, string>): string {
  const root = freshDir('swap-volume-');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

/** Every file below `root` with its content, and every empty directory, sorted. */
function contentOf(root: string, below = ''): string[] {
  const entries: string[] = [];
  for (const name of readdirSync(join(root, below))) {
    const relative = below === '' ? name : `${below}/${name}`;
    const stat = lstatSync(join(root, relative));
    if (stat.isDirectory()) {
      const inner = contentOf(root, relative);
      entries.push(...(inner.length === 0 ? [`${relative}/`] : inner));
    } else entries.push(stat.isSymbolicLink() ? `${relative} -> link` : `${relative}=${readFileSync(join(root, relative), 'utf8')}`);
  }
  return entries.sort();
}

async function swapProgram(root: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['-e', volumeSwapScript(root), ...args]);
  return (JSON.parse(stdout.trim()) as { outcome: string }).outcome;
}

describe('the volume swap against what a compromised agent leaves in its volume', () => {
  test('a journal forged for the swap now starting keeps the agent’s files out of the restored tree', async () => {
    const root = volumeWith({
      'config.yaml': 'agent-written',
      'planted.js': 'agent-written',
      [`${STAGING}/config.yaml`]: 'from-backup',
      [`${STAGING}/audit/a.log`]: 'from-backup',
      '.restore-previous/other': 'agent-written',
    });
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: STAGING }));
    assert.equal(await swapProgram(root, ['swap', STAGING]), 'swapped');
    assert.deepEqual(contentOf(root), ['audit/a.log=from-backup', 'config.yaml=from-backup']);
  });

  const forged: Array<[string, (root: string) => void]> = [
    ['a staging path outside the volume', (root) => writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: '../../elsewhere' }))],
    ['a journal that is not JSON', (root) => writeFileSync(join(root, JOURNAL), '{ not json')],
    ['a journal with an unknown phase', (root) => writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-sideways', staging: STAGING }))],
    ['a journal with fields of its own', (root) => writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: STAGING, also: '/etc' }))],
    ['an oversized journal', (root) => writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: STAGING, pad: 'x'.repeat(100_000) }))],
    ['a journal that is a directory', (root) => mkdirSync(join(root, JOURNAL))],
    [
      'a journal that is a link',
      (root) => {
        const outside = join(freshDir('swap-outside-'), 'journal');
        writeFileSync(outside, JSON.stringify({ phase: 'moving-in', staging: STAGING }));
        mkdirSync(join(root, '.restore-previous'));
        symlinkSync(outside, join(root, JOURNAL));
      },
    ],
    ['a rollback without a previous content', (root) => writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: STAGING }))],
  ];
  for (const [what, plant] of forged) {
    test(`recovery discards ${what}, keeps the live data and ends every time`, async () => {
      const root = volumeWith({ 'config.yaml': 'live', 'audit/a.log': 'live' });
      plant(root);
      assert.equal(await swapProgram(root, ['recover']), 'clean');
      assert.deepEqual(contentOf(root), ['audit/a.log=live', 'config.yaml=live']);
      assert.equal(await swapProgram(root, ['recover']), 'clean');
    });
  }

  test('a previous content that is a link leads nowhere outside the volume', async () => {
    const outside = freshDir('swap-outside-');
    writeFileSync(join(outside, 'host-file'), 'outside');
    const root = volumeWith({ 'config.yaml': 'live' });
    symlinkSync(outside, join(root, '.restore-previous'));
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-out', staging: STAGING }));
    assert.equal(await swapProgram(root, ['recover']), 'clean');
    assert.deepEqual(contentOf(root), ['config.yaml=live']);
    assert.deepEqual(contentOf(outside), ['host-file=outside']);
  });

  test('a previous entry that is also live never replaces the live one, and recovery ends', async () => {
    const root = volumeWith({ 'config.yaml': 'live', 'audit/a.log': 'live', '.restore-previous/config.yaml': 'planted', '.restore-previous/audit/b.log': 'planted', '.restore-previous/kept': 'previous' });
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-out', staging: STAGING }));
    assert.equal(await swapProgram(root, ['recover']), 'rolled-back');
    assert.deepEqual(contentOf(root), ['audit/a.log=live', 'config.yaml=live', 'kept=previous']);
  });
});

describe('the volume swap after real interruptions', () => {
  test('a swap makes the staged tree the content and leaves nothing of itself', async () => {
    const root = volumeWith({ 'config.yaml': 'old', 'old-only': 'old', [`${STAGING}/config.yaml`]: 'new', [`${STAGING}/.dot`]: 'new' });
    assert.equal(await swapProgram(root, ['swap', STAGING]), 'swapped');
    assert.deepEqual(contentOf(root), ['.dot=new', 'config.yaml=new']);
    assert.equal(await swapProgram(root, ['recover']), 'clean');
  });

  test('a swap cut off while moving the old content out is rolled back', async () => {
    const root = volumeWith({ 'config.yaml': 'old', '.restore-previous/audit/a.log': 'old', [`${STAGING}/config.yaml`]: 'new' });
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-out', staging: STAGING }));
    assert.equal(await swapProgram(root, ['recover']), 'rolled-back');
    assert.deepEqual(contentOf(root), ['audit/a.log=old', 'config.yaml=old']);
  });

  test('a swap cut off while moving the staged tree in is rolled back', async () => {
    const root = volumeWith({ 'config.yaml': 'new', '.restore-previous/config.yaml': 'old', '.restore-previous/audit/a.log': 'old', [`${STAGING}/audit/a.log`]: 'new' });
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'moving-in', staging: STAGING }));
    assert.equal(await swapProgram(root, ['recover']), 'rolled-back');
    assert.deepEqual(contentOf(root), ['audit/a.log=old', 'config.yaml=old']);
  });

  test('a swap cut off after it completed is finished forward', async () => {
    const root = volumeWith({ 'config.yaml': 'new', '.restore-previous/config.yaml': 'old' });
    writeFileSync(join(root, JOURNAL), JSON.stringify({ phase: 'swapped', staging: STAGING }));
    assert.equal(await swapProgram(root, ['recover']), 'completed');
    assert.deepEqual(contentOf(root), ['config.yaml=new']);
  });
});
