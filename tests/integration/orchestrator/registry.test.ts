import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import { opsLogHeadFile, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { MIGRATIONS } from '../../../orchestrator/src/adapters/sql/migrations.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { eraseFields, hashOpsLogEntry, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { eraseClientOpsLog } from '../../../orchestrator/src/services/erasure/ops-log-erasure.ts';
import { verifyStoredOpsLog } from '../../../orchestrator/src/services/ops-log-verification.ts';
import type { NewClient } from '../../../orchestrator/src/ports/registry.ts';
import { filesContaining } from '../../helpers/marker-scan.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const acme = parseClientId('acme');
const newClient: NewClient = {
  id: acme,
  provider: 'gmail',
  admins: ['ops@acme.example'],
  configYaml: 'client: acme\n',
  onboardingStartedAt: '2026-11-01T00:00:00.000Z',
};

for (const backend of registryBackends) {
  describe(`registry on ${backend.name}`, () => {
    let opened: OpenedRegistry;
    before(async () => {
      opened = await backend.open();
    });
    beforeEach(() => opened.reset());
    after(() => opened.close());

    test("a client's configuration and admins are stored sealed, bound to the client, and read back whole", async () => {
      const { registry, sql } = opened;
      const config = { ...newClient, admins: ['sealed-admin-marker@acme.example'], configYaml: 'client: acme\nblock_list: [sealed-config-marker@rival.example]\n' };
      await registry.claimForProvisioning(config, 'op-1', new Date('2026-11-23T10:00:00Z'), 60_000);
      await registry.claimForProvisioning({ ...newClient, id: parseClientId('beta') }, 'op-2', new Date('2026-11-23T10:00:00Z'), 60_000);
      const stored = async (id: string) => (await sql.query<{ config_yaml: string; admins: unknown }>('SELECT config_yaml, admins FROM clients WHERE id = $1', [id]))[0]!;
      const raw = await stored('acme');
      assert.match(raw.config_yaml, /^ps1\./);
      assert.doesNotMatch(JSON.stringify(raw), /marker/);
      const record = await registry.getClient(acme);
      assert.equal(record?.configYaml, config.configYaml);
      assert.deepEqual(record?.admins, config.admins);

      await registry.updateConfig(acme, { configYaml: 'client: acme\nblock_list: [updated-config-marker@rival.example]\n', admins: ['a@acme.example', 'b@acme.example'], provider: 'outlook' }, new Date());
      assert.doesNotMatch(JSON.stringify(await stored('acme')), /marker|acme\.example/);
      assert.deepEqual((await registry.listClients()).find((client) => client.id === acme)?.admins, ['a@acme.example', 'b@acme.example']);

      // Why ops changed its state (free text, as typed with a kill) is sealed too.
      await registry.setStatus(acme, 'killed', 'sealed-reason-marker: a suspicious forward', new Date());
      const [reasonRow] = await sql.query<{ status_reason: string }>('SELECT status_reason FROM clients WHERE id = $1', ['acme']);
      assert.match(reasonRow?.status_reason ?? '', /^ps1\./);
      assert.equal((await registry.getClient(acme))?.statusReason, 'sealed-reason-marker: a suspicious forward');
      assert.equal(await registry.transition(acme, ['killed'], 'active', null, new Date()), true);
      assert.equal((await registry.getClient(acme))?.statusReason, null);

      // A sealed value moved into another client's row does not open there.
      await sql.query('UPDATE clients SET config_yaml = $1 WHERE id = $2', [(await stored('acme')).config_yaml, 'beta']);
      await assert.rejects(registry.getClient(parseClientId('beta')), { code: 'integrity' });
      if (opened.dataDir !== null) {
        await sql.query('CHECKPOINT');
        assert.deepEqual(await filesContaining([opened.dataDir], ['sealed-config-marker', 'sealed-admin-marker', 'updated-config-marker', 'sealed-reason-marker']), [], 'no plaintext in the database files');
      }
    });

    test("an ops-log entry's actor, reason and details are stored sealed, bound to the entry, and read back whole", async () => {
      const { registry, sql } = opened;
      const marker = `ops-marker-${randomBytes(6).toString('hex')}`;
      const entry = { actor: `client-admin:${marker}-actor@acme.example`, action: 'config-change', clientId: acme, reason: `${marker}-reason`, outcome: 'success', details: { blockList: `+${marker}-blocked@spam.example` } };
      await registry.appendOpsLog(entry);
      await registry.appendOpsLog({ actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} });
      const stored = async () => sql.query<{ seq: number | string; actor: string | null; reason: string | null; details: unknown; sealed_fields: string | null }>(
        'SELECT seq, actor, reason, details, sealed_fields FROM ops_log ORDER BY seq',
      );
      const rows = await stored();
      assert.deepEqual(rows.map((row) => [row.actor, row.reason, row.details]), [[null, null, null], [null, null, null]], 'nothing in the plaintext columns');
      assert.ok(rows.every((row) => row.sealed_fields?.startsWith('ps1.')));
      assert.doesNotMatch(JSON.stringify(rows), new RegExp(marker));
      const [first] = await registry.listOpsLog();
      assert.deepEqual([first?.actor, first?.reason, first?.details], [entry.actor, entry.reason, entry.details]);
      assert.equal(verifyOpsLog(await registry.listOpsLog()).valid, true);
      if (opened.dataDir !== null) {
        await sql.query('CHECKPOINT');
        assert.deepEqual(await filesContaining([opened.dataDir], [marker]), [], 'no plaintext in the database files');
      }

      // One entry's sealed fields moved onto another entry do not open there: its actor cannot be swapped quietly.
      await sql.query('UPDATE ops_log SET sealed_fields = $1 WHERE seq = 2', [rows[0]!.sealed_fields]);
      await assert.rejects(registry.listOpsLog(), { code: 'integrity' });
      // Plaintext put back beside the sealed value is refused by the table itself.
      await assert.rejects(sql.query("UPDATE ops_log SET actor = 'ops' WHERE seq = 1"), /ops_log_fields_in_one_place/);
    });

    test('a client is claimed once; a second claim while it is fresh is busy', async () => {
      const { registry } = opened;
      {
        const now = new Date('2026-11-23T10:00:00Z');
        const [first, second] = await Promise.all([
          registry.claimForProvisioning(newClient, 'op-1', now, 60_000),
          registry.claimForProvisioning(newClient, 'op-2', now, 60_000),
        ]);
        const outcomes = [first.outcome, second.outcome].sort();
        assert.deepEqual(outcomes, ['busy', 'claimed']);
        const record = await registry.getClient(acme);
        assert.equal(record?.status, 'provisioning');
        assert.deepEqual(record?.admins, ['ops@acme.example']);
      }
    });

    test('a stale provisioning claim is taken over, an active client is not claimed again', async () => {
      const { registry } = opened;
      {
        await registry.claimForProvisioning(newClient, 'op-1', new Date('2026-11-23T10:00:00Z'), 60_000);
        const later = new Date('2026-11-23T10:05:00Z');
        const takeover = await registry.claimForProvisioning(newClient, 'op-2', later, 60_000);
        assert.deepEqual(takeover, { outcome: 'claimed', created: false, previousStatus: 'provisioning' });
        assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later), true);
        assert.equal(await registry.transition(acme, ['provisioning'], 'failed', null, later), false);
        assert.deepEqual(await registry.claimForProvisioning(newClient, 'op-3', later, 60_000), {
          outcome: 'already-active',
        });
      }
    });

    test('subnets are unique across clients', async () => {
      const { registry } = opened;
      {
        await registry.claimForProvisioning(newClient, 'op-1', new Date(), 60_000);
        await registry.claimForProvisioning(
          { ...newClient, id: parseClientId('globex') },
          'op-2',
          new Date(),
          60_000,
        );
        await registry.setSubnet(acme, '10.213.0.0/28');
        await assert.rejects(registry.setSubnet(parseClientId('globex'), '10.213.0.0/28'));
        assert.deepEqual(await registry.allocatedSubnets(), ['10.213.0.0/28']);
      }
    });

    test('a deleted client takes its checkpoint with it, and once reclaimed its row is in no file of the database', async () => {
      const { registry } = opened;
      const marker = `erased-${randomBytes(6).toString('hex')}@client.example`;
      const now = new Date('2026-11-23T10:00:00Z');
      await registry.claimForProvisioning({ ...newClient, admins: [marker], configYaml: `client: acme\nadmins: [${marker}]\n` }, 'op-1', now, 60_000);
      await registry.saveAuditCheckpoint(acme, { seq: 40, hash: 'a'.repeat(64) }, now);
      await registry.deleteClient(acme);
      const reclaimed = await registry.reclaimDeletedRows();
      assert.equal(reclaimed.writeAheadLog, opened.dataDir !== null, 'only the database of our own process has its log moved on');
      assert.equal(await registry.getClient(acme), null);
      assert.equal(await registry.getAuditCheckpoint(acme), null, 'a client made again under this id starts without the old checkpoint');
      await registry.claimForProvisioning(newClient, 'op-2', now, 60_000);
      assert.equal(await registry.saveAuditCheckpoint(acme, { seq: 1, hash: 'b'.repeat(64) }, now), 'saved', 'its new chain is not taken for a regression');
      if (opened.dataDir !== null) assert.deepEqual(await filesContaining([opened.dataDir], [marker]), [], 'the erased admin is in no file');
    });

    test("a deleted client's ops-log entries lose their personal fields, the chain still verifies and the values are in no file", async () => {
      const { registry } = opened;
      const admin = `admin-${randomBytes(6).toString('hex')}@client.example`;
      const blocked = `blocked-${randomBytes(6).toString('hex')}@spam.example`;
      await registry.appendOpsLog({ actor: 'ops', action: 'provision', clientId: acme, reason: null, outcome: 'success', details: {} });
      await registry.appendOpsLog({ actor: `client-admin:${admin}`, action: 'config-change', clientId: acme, reason: `asked by ${admin}`, outcome: 'success', details: { blockList: `+${blocked}` } });
      await registry.appendOpsLog({ actor: 'ops', action: 'kill', clientId: 'globex', reason: 'kept', outcome: 'success', details: { n: 1 } });
      const before = await registry.listOpsLog();

      const tampered = { ...before[1]!, actor: 'erased', reason: null, details: {}, erasedAt: new Date().toISOString() };
      await assert.rejects(registry.saveErasedOpsLogEntries([tampered]), /not an erasure of the stored entry/, 'values cannot be replaced without their digests');
      await assert.rejects(registry.saveErasedOpsLogEntries([{ ...eraseFields(before[2]!, ['reason'], new Date()), clientId: acme }]), /not an erasure/);

      assert.deepEqual(await eraseClientOpsLog(registry, acme, new Date()), { erased: 1, unerasable: 0 });
      await registry.appendOpsLog({ actor: 'ops', action: 'deprovision-purge', clientId: acme, reason: null, outcome: 'success', details: {} });
      await registry.reclaimDeletedRows();
      const after = await registry.listOpsLog();
      assert.equal(verifyOpsLog(after).valid, true);
      assert.deepEqual(after.slice(0, 3).map((entry) => entry.hash), before.map((entry) => entry.hash), 'no hash changed');
      assert.deepEqual([after[1]?.actor, after[1]?.reason, after[1]?.details], ['erased', null, {}]);
      assert.ok(after[1]?.erasedAt);
      assert.deepEqual([after[2]?.reason, after[2]?.details], ['kept', { n: 1 }], "another client's entry is untouched");
      const [erasedRow] = await opened.sql.query<{ actor: string | null; sealed_fields: string | null }>('SELECT actor, sealed_fields FROM ops_log WHERE seq = 2');
      assert.equal(erasedRow?.actor, null, 'an erased entry stays sealed');
      assert.match(erasedRow?.sealed_fields ?? '', /^ps1\./);
      if (opened.dataDir !== null) assert.deepEqual(await filesContaining([opened.dataDir], [admin, blocked]), [], 'the erased values are in no file');
    });

    test('the ops log is read whole, by client, by action, or both, always in sequence order', async () => {
      const { registry } = opened;
      const beta = parseClientId('beta');
      for (const [action, clientId] of [['erasure-request', acme], ['kill', acme], ['erasure-request', beta], ['erase', acme], ['provision', null]] as const) {
        await registry.appendOpsLog({ actor: 'ops', action, clientId, reason: null, outcome: 'success', details: {} });
      }
      const seqsOf = async (filter?: Parameters<typeof registry.listOpsLog>[0]) => (await registry.listOpsLog(filter)).map((entry) => `${entry.seq}:${entry.action}`);
      assert.deepEqual(await seqsOf(), ['1:erasure-request', '2:kill', '3:erasure-request', '4:erase', '5:provision']);
      assert.deepEqual(await seqsOf({ actions: ['erasure-request', 'erase'] }), ['1:erasure-request', '3:erasure-request', '4:erase']);
      assert.deepEqual(await seqsOf({ clientId: acme, actions: ['erasure-request'] }), ['1:erasure-request']);
      assert.deepEqual(await seqsOf({ clientId: beta }), ['3:erasure-request']);
      assert.deepEqual(await seqsOf({ actions: [] }), [], 'no action asked, none read');
    });

    test('the ops log is read in pages by sequence, each page at most its size, and verifies as when read whole', async () => {
      const { registry } = opened;
      for (const action of ['provision', 'kill', 'revive', 'kill', 'deprovision']) {
        await registry.appendOpsLog({ actor: 'ops', action, clientId: acme, reason: null, outcome: 'success', details: {} });
      }
      const pages: number[][] = [];
      for await (const page of registry.readOpsLogPages({ pageSize: 2 })) pages.push(page.map((entry) => entry.seq));
      assert.deepEqual(pages, [[1, 2], [3, 4], [5]]);
      const filtered: string[] = [];
      for await (const page of registry.readOpsLogPages({ pageSize: 1, filter: { actions: ['kill'] } })) filtered.push(...page.map((entry) => `${entry.seq}:${entry.action}`));
      assert.deepEqual(filtered, ['2:kill', '4:kill']);
      const checkpoint = (await registry.opsLogHeadCheckpoint?.()) ?? null;
      const paged = await verifyStoredOpsLog(registry, 2);
      assert.equal(paged.valid, true);
      assert.deepEqual(paged, verifyOpsLog(await registry.listOpsLog(), checkpoint));
    });

    test('the ops log chains entries and detects an edited row', async () => {
      const { registry } = opened;
      {
        for (const action of ['provision', 'kill', 'revive']) {
          await registry.appendOpsLog({
            actor: 'ops',
            action,
            clientId: 'acme',
            reason: null,
            outcome: 'success',
            details: { n: 1 },
          });
        }
        const entries = await registry.listOpsLog();
        assert.deepEqual(verifyOpsLog(entries), { valid: true, entries: 3, head: entries[2]?.hash });
        const edited = entries.map((entry) =>
          entry.seq === 2 ? { ...entry, reason: 'nothing happened' } : entry,
        );
        assert.deepEqual(verifyOpsLog(edited), {
          valid: false,
          entries: 3,
          firstBadSeq: 2,
          problem: 'edited',
        });
        assert.equal(verifyOpsLog(entries.filter((entry) => entry.seq !== 2)).valid, false);
        assert.equal(verifyOpsLog([entries[1]!, entries[0]!, entries[2]!]).valid, false);
      }
    });
  });
}

describe('a registry made before ops-log fields could be erased and anything was sealed', () => {
  test('migrates: its entries keep verifying, new ones are sealed, and only those can be erased; its configurations and entries are sealed at rest', async () => {
    const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-registry-upgrade-'));
    const executor = await openPgliteExecutor(path.join(homeDir, 'registry'));
    try {
      // The schema as the previous release left it, with one entry written the way it wrote them.
      await executor.transaction(async (tx) => {
        await tx.query('CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
        for (const migration of MIGRATIONS.filter((candidate) => candidate.version < 7)) {
          await tx.query(migration.sql);
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        }
      });
      const old = { seq: 1, at: '2026-11-01T00:00:00.000Z', actor: 'client-admin:jane@acme.example', action: 'kill', clientId: 'acme', reason: 'old-reason-marker', outcome: 'success', details: { by: 'old-details-marker' }, prevHash: GENESIS_HASH };
      await executor.query('INSERT INTO ops_log (seq, at, actor, action, client_id, reason, outcome, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
        old.seq, old.at, old.actor, old.action, old.clientId, old.reason, old.outcome, JSON.stringify(old.details), old.prevHash, hashOpsLogEntry(old),
      ]);

      const oldConfig = 'client: acme\nblock_list: [leaked-config-marker@rival.example]\n';
      await executor.query(`INSERT INTO clients (id, status, provider, admins, config_yaml, status_reason, onboarding_started_at, created_at, updated_at)
         VALUES ('acme', 'killed', 'gmail', '["old-admin-marker@acme.example"]', $1, 'old-status-marker', now(), now(), now())`, [oldConfig]);

      assert.deepEqual(await migrate(executor), MIGRATIONS.filter((candidate) => candidate.version >= 7).map((candidate) => candidate.version));
      const registry = new SqlRegistry(executor, registrySealer(randomBytes(32)));
      // Its client configuration and its ops-log entry, written in plaintext, are sealed and leave the database's files.
      assert.deepEqual(await registry.sealPlaintext(), { clients: 1, opsLogEntries: 1 });
      assert.deepEqual(await registry.sealPlaintext(), { clients: 0, opsLogEntries: 0 }, 'once');
      const client = await registry.getClient(acme);
      assert.equal(client?.configYaml, oldConfig);
      assert.deepEqual(client?.admins, ['old-admin-marker@acme.example']);
      assert.equal(client?.statusReason, 'old-status-marker');
      const [oldRead] = await registry.listOpsLog();
      assert.deepEqual([oldRead?.actor, oldRead?.reason, oldRead?.details, oldRead?.hash], [old.actor, old.reason, old.details, hashOpsLogEntry(old)]);
      await executor.query('CHECKPOINT');
      assert.deepEqual(await filesContaining([path.join(homeDir, 'registry')], ['leaked-config-marker', 'old-admin-marker', 'old-status-marker', 'old-reason-marker', 'old-details-marker']), []);
      await registry.appendOpsLog({ actor: 'client-admin:jane@acme.example', action: 'config-change', clientId: acme, reason: 'new', outcome: 'success', details: { blockList: '+x@y.example' } });
      const [first, second] = await registry.listOpsLog();
      assert.equal(first?.seals, undefined);
      assert.ok(second?.seals);
      assert.equal(verifyOpsLog(await registry.listOpsLog()).valid, true);

      assert.deepEqual(await eraseClientOpsLog(registry, acme, new Date()), { erased: 1, unerasable: 1 });
      await registry.appendOpsLog({ actor: 'ops', action: 'deprovision-purge', clientId: acme, reason: null, outcome: 'success', details: {} });
      const after = await registry.listOpsLog();
      assert.equal(verifyOpsLog(after).valid, true);
      assert.equal(after[0]?.actor, 'client-admin:jane@acme.example', 'an entry hashed over its values cannot lose them');
      assert.equal(after[1]?.actor, 'erased');
    } finally {
      await executor.close();
      await rm(homeDir, { recursive: true, force: true });
    }
  });
});

describe("the ops log's head, recorded outside the database", () => {
  test('verification catches a tail deleted or rewritten in the database, accepts a log one append ahead, and a missing record is made from the head at start', async () => {
    const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-registry-head-'));
    const executor = await openPgliteExecutor(path.join(homeDir, 'registry'));
    try {
      const { registry, opsLogAnchoring } = await registryOn(executor, homeDir);
      assert.deepEqual(opsLogAnchoring, { checkpoint: 'empty-log' });
      const verify = async () => verifyOpsLog(await registry.listOpsLog(), await registry.opsLogHeadCheckpoint());
      for (const action of ['kill', 'resume', 'kill']) {
        await registry.appendOpsLog({ actor: 'ops', action, clientId: acme, reason: null, outcome: 'success', details: {} });
      }
      const entries = await registry.listOpsLog();
      assert.deepEqual(await registry.opsLogHeadCheckpoint(), { seq: 3, hash: entries[2]!.hash });
      assert.equal((await verify()).valid, true);

      // Someone with database access deletes the last entry: the chain alone still links.
      const deleted = (await executor.query<Record<string, unknown>>('SELECT * FROM ops_log WHERE seq = 3'))[0]!;
      await executor.query('DELETE FROM ops_log WHERE seq = 3');
      assert.equal(verifyOpsLog(await registry.listOpsLog()).valid, true);
      assert.deepEqual(await verify(), { valid: false, entries: 2, firstBadSeq: 3, problem: 'truncated', checkpointSeq: 3 });

      // ... and writes another third entry in its place, hash recomputed and linked.
      const forged = { seq: 3, at: '2026-11-23T10:00:00.000Z', actor: 'ops', action: 'resume', clientId: 'acme', reason: null, outcome: 'success', details: {}, prevHash: entries[1]!.hash, seals: entries[2]!.seals };
      await executor.query(
        'INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [3, forged.at, forged.action, forged.clientId, forged.outcome, forged.prevHash, hashOpsLogEntry(forged), JSON.stringify(forged.seals), deleted.sealed_fields],
      );
      assert.equal(verifyOpsLog(await registry.listOpsLog()).valid, true);
      assert.deepEqual(await verify(), { valid: false, entries: 3, firstBadSeq: 3, problem: 'head-mismatch', checkpointSeq: 3 });
      await executor.query('DELETE FROM ops_log WHERE seq = 3');
      await executor.query(
        'INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields, actor, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [deleted.seq, deleted.at, deleted.action, deleted.client_id, deleted.outcome, deleted.prev_hash, deleted.hash, JSON.stringify(deleted.seals), deleted.sealed_fields, deleted.actor, deleted.reason, deleted.details],
      );
      assert.equal((await verify()).valid, true, 'restored');

      // The checkpoint one append behind (a crash after the commit, before its write): accepted.
      const file = opsLogHeadFile(homeDir);
      const atThree = await readFile(file, 'utf8');
      await registry.appendOpsLog({ actor: 'ops', action: 'resume', clientId: acme, reason: null, outcome: 'success', details: {} });
      await writeFile(file, atThree);
      assert.deepEqual(await verify(), { valid: true, entries: 4, head: (await registry.listOpsLog())[3]!.hash });

      // No record (the first start with checkpoints): made from the log's head at start, and said so.
      await unlink(file);
      const reopened = await registryOn(executor, homeDir);
      assert.deepEqual(reopened.opsLogAnchoring, { checkpoint: 'created', head: { seq: 4, hash: (await registry.listOpsLog())[3]!.hash } });
      assert.deepEqual((await registryOn(executor, homeDir)).opsLogAnchoring, { checkpoint: 'present' });

      // A record that fails its MAC: the start goes on and says so, verification refuses it, appends leave it be.
      await writeFile(file, atThree.replace('"seq":3', '"seq":2'));
      assert.equal((await registryOn(executor, homeDir)).opsLogAnchoring.checkpoint, 'invalid');
      await registry.appendOpsLog({ actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} });
      await assert.rejects(registry.opsLogHeadCheckpoint(), /fails its MAC/);
    } finally {
      await executor.close();
      await rm(homeDir, { recursive: true, force: true });
    }
  });
});
