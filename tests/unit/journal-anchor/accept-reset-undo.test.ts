// `fleet audit accept-volume` resets the journal anchor, then introduces the refused agent again. When that
// open fails before the volume's heads are recorded, the agent puts back the heads its refused open was
// checked against: the acceptance is undone whole, and the record of what was acknowledged is not lost.
import { JOURNAL_ANCHOR_SECRET, encodeAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { auditFile, client, removeBedDirectories } from './agent-bed.ts';

after(removeBedDirectories);

/** A client whose running agent refused its volume as rolled back (an older copy put back by hand). */
async function refusedAsRolledBack() {
  const bed = await client();
  await bed.work();
  const backup = await bed.copyVolume();
  await bed.work('Europe/Paris');
  await bed.putBack(backup);
  const started = await bed.start();
  assert.deepEqual(started.runtime.readiness(), { ready: false, reason: 'journal_rolled_back' });
  const anchoredBefore = bed.anchored();
  assert.equal(anchoredBefore?.kind, 'heads');
  /** What accept-volume writes before it introduces the agent again. */
  const reset = () => bed.vault.kv.set(JOURNAL_ANCHOR_SECRET, encodeAnchorDocument({ kind: 'reset', reason: 'accepted by alice: restored by hand', at: new Date().toISOString() }));
  return { bed, started, anchoredBefore, reset };
}

describe('an acceptance whose open fails', () => {
  test('a chain broken by itself stays refused, and the heads anchored before the reset are put back', async () => {
    const { bed, started, anchoredBefore, reset } = await refusedAsRolledBack();
    const file = await auditFile(bed.dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    await writeFile(file, `${lines.slice(1).join('\n')}\n`);
    reset();
    await started.introduce();
    assert.deepEqual(started.runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.deepEqual(bed.anchored(), anchoredBefore, 'the reset is undone');
    // Accepted again once the chain is whole: the same agent, the same held heads.
    await writeFile(file, `${lines.join('\n')}\n`);
    reset();
    await started.introduce();
    assert.equal(started.runtime.readiness().ready, true);
    assert.equal(bed.anchored()?.kind, 'heads');
    assert.notDeepEqual(bed.anchored(), anchoredBefore, 'the accepted volume’s heads are recorded');
    await started.runtime.stop();
  });

  test('an open that cannot record the volume’s heads puts the old ones back', async () => {
    const { bed, started, anchoredBefore, reset } = await refusedAsRolledBack();
    reset();
    const sources = started.sources.length;
    const realWrite = bed.vault.kv.set.bind(bed.vault.kv);
    let refusals = 0;
    // Vault refuses the open's record of the heads (the first write after the reset), and only that one.
    bed.vault.kv.set = (name: string, value: string) => {
      if (name === JOURNAL_ANCHOR_SECRET && refusals === 0) {
        refusals++;
        throw new Error('vault: write secret failed: connection reset');
      }
      return realWrite(name, value);
    };
    await started.introduce();
    assert.equal(refusals, 1);
    assert.equal(started.sources.length, sources + 1);
    assert.equal(started.runtime.readiness().ready, false);
    assert.deepEqual(bed.anchored(), anchoredBefore, 'the reset is undone');
    bed.vault.kv.set = realWrite;
    await started.runtime.stop();
  });
});
