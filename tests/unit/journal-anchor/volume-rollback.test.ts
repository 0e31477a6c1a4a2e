// A rollback of the client's volume (files cut back to an earlier record, or an older copy swapped in) as
// the agent lives it: the heads of its journals are recorded outside the volume, in its own Vault path,
// and an agent whose volume no longer reaches them does not act. A restore through the orchestrator resets
// that record, so the restored volume opens and its heads are recorded.
import { JOURNAL_ANCHOR_SECRET } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { resetJournalAnchor } from '../../../orchestrator/src/services/backup/journal-anchor-reset.ts';
import { auditFile, client, removeBedDirectories } from './agent-bed.ts';

after(removeBedDirectories);

describe('journal heads anchored outside the volume', () => {
  test('a new client starts without an anchor and records its heads', async () => {
    const { start, anchored } = await client();
    assert.equal(anchored(), null);
    const { runtime } = await start();
    assert.equal(runtime.readiness().ready, true);
    await runtime.stop();
    const document = anchored();
    assert.equal(document?.kind, 'heads');
    assert.ok(document?.kind === 'heads' && document.heads['audit'] !== undefined, 'the audit head is recorded');
  });

  test('an audit log cut back to an earlier record is refused at open: the agent does not act and the chain gauge is 0', async () => {
    const { dataDir, work, start } = await client();
    await work();
    const file = await auditFile(dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    // Every remaining record still verifies: only the anchor can tell the last one is gone.
    await writeFile(file, `${lines.slice(0, -1).join('\n')}\n`);
    const { runtime, chainValid, errors } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'journal_rolled_back' });
    assert.equal(await chainValid(), 0, 'AuditChainBroken still fires');
    assert.match(errors.join('\n'), /fleet audit accept-volume <client> --reason/, 'the refusal names the command that accepts the volume');
    await runtime.stop();
  });

  test('an older copy of the whole volume is refused, and the same copy restored through the orchestrator opens', async () => {
    const { work, start, copyVolume, putBack, vault, anchored } = await client();
    await work();
    const backup = await copyVolume();
    const before = anchored();
    await work('Europe/Paris');
    const later = anchored();
    await putBack(backup);
    const refused = await start();
    assert.deepEqual(refused.runtime.readiness(), { ready: false, reason: 'journal_rolled_back' });
    await refused.runtime.stop();

    // What `fleet restore` does between stopping the agent and swapping the backup in.
    const secrets = {
      writeSecret: async (_clientId: unknown, name: string, value: string) => {
        vault.kv.set(name, value);
        return { version: 1 };
      },
    };
    await resetJournalAnchor(secrets, parseClientId('acme'), 'restore of b-1', new Date());
    await putBack(backup);
    const restored = await start();
    assert.equal(restored.runtime.readiness().ready, true);
    assert.equal(await restored.chainValid(), 1);
    await restored.runtime.stop();
    const after = anchored();
    assert.ok(before?.kind === 'heads' && later?.kind === 'heads' && after?.kind === 'heads');
    assert.ok(before.heads['settings'] !== undefined && later.heads['settings'] !== undefined);
    assert.notDeepEqual(later.heads['settings'], before.heads['settings']);
    assert.deepEqual(after.heads['settings'], before.heads['settings'], 'the anchor moved back to where the backup left the journal');
    assert.ok((after.heads['audit']?.seq ?? 0) < (later.heads['audit']?.seq ?? 0), 'the audit anchor follows the restored chain');
  });

  test('an older copy of one journal alone (the audit log intact) is refused, naming the journal', async () => {
    const { dataDir, work, start, copyVolume } = await client();
    await work();
    const backup = await copyVolume();
    await work('Europe/Paris');
    await cp(join(backup, 'state', 'settings.log'), join(dataDir, 'state', 'settings.log'));
    const { runtime, errors } = await start('Europe/Paris');
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'journal_rolled_back' });
    assert.match(errors.join('\n'), /the settings journal does not hold its anchored head: it ends at event 1, before event 2 recorded in Vault.*fleet restore/);
    await runtime.stop();
  });

  test('Vault unreachable at open: the agent does not start, says why, and starts once Vault answers', async () => {
    const { work, start, vault, anchored } = await client();
    await work();
    vault.down = true;
    const { runtime, errors, introduce } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'open_failed' });
    assert.match(errors.join('\n'), /could not read the journal heads recorded in Vault; the agent will not act until it can/);
    vault.down = false;
    await introduce();
    assert.equal(runtime.readiness().ready, true);
    await runtime.stop();
    assert.equal(anchored()?.kind, 'heads');
  });

  test('an anchor Vault holds but that cannot be read is not taken for none', async () => {
    const { work, start, vault } = await client();
    await work();
    vault.kv.set(JOURNAL_ANCHOR_SECRET, '{"format":1,"heads":{"audit":{"seq":"1"}}}');
    const { runtime, chainValid } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.equal(await chainValid(), 0);
    await runtime.stop();
  });
  test('a volume whose audit chain is broken by itself is audit_chain_broken, not a rollback', async () => {
    const { dataDir, work, start } = await client();
    await work();
    const file = await auditFile(dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    // The first record dropped: the chain no longer starts at record 1, whatever Vault holds.
    await writeFile(file, `${lines.slice(1).join('\n')}\n`);
    const { runtime, chainValid } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.equal(await chainValid(), 0);
    await runtime.stop();
  });

  test('a refused volume stops the secret source it was introduced with; the next introduction brings its own', async () => {
    const { dataDir, work, start, vault } = await client();
    await work();
    const file = await auditFile(dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    await writeFile(file, `${lines.slice(0, -1).join('\n')}\n`);
    const { runtime, sources, introduce } = await start();
    assert.equal(runtime.readiness().ready, false);
    assert.equal(sources.length, 1);
    assert.equal(sources[0]?.stopped, true, 'the refused introduction\'s token is revoked and its timers cleared');

    await resetJournalAnchor({ writeSecret: async (_id: unknown, name: string, value: string) => (vault.kv.set(name, value), { version: 1 }) }, parseClientId('acme'), 'accepted', new Date());
    await introduce();
    assert.equal(runtime.readiness().ready, true);
    assert.equal(sources[1]?.stopped, false, 'the source of the opened volume stays in use');
    await runtime.stop();
    assert.equal(sources[1]?.stopped, true);
  });

  test('an open that fails on Vault stops its secret source', async () => {
    const { work, start, vault } = await client();
    await work();
    vault.down = true;
    const { runtime, sources } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'open_failed' });
    assert.equal(sources[0]?.stopped, true);
    await runtime.stop();
  });

  test('a start that fails after the volume opened closes it again, so the next introduction opens it afresh', async () => {
    const { work, start, vault } = await client();
    await work();
    vault.unreachable.add('control'); // the control token's hash, read once the volume is open (control-auth.ts)
    const { runtime, sources, introduce } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'open_failed' });
    assert.equal(sources[0]?.stopped, true);
    vault.unreachable.clear();
    await introduce();
    assert.equal(runtime.readiness().ready, true, 'not taken for a rotation of a volume left half open');
    await runtime.stop();
  });
});
