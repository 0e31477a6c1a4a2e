// The incident store on both registry backends (PGlite and PostgreSQL), through the migrations.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import pg from 'pg';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../../../orchestrator/src/adapters/postgres/postgres-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlIncidentStore } from '../../../orchestrator/src/adapters/sql/sql-incident-store.ts';
import { filesContaining } from '../../helpers/marker-scan.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';

interface Backend {
  name: string;
  open(): Promise<{ sql: SqlExecutor; dataDir: string | null; close(): Promise<void> }>;
}

async function onPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const backends: Backend[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-incidents-'));
      const sql = await openPgliteExecutor(path.join(dir, 'registry'));
      return {
        sql,
        dataDir: dir,
        close: async () => {
          await sql.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `inc_${process.pid}_${Date.now()}`;
      await onPostgres((client) => client.query(`CREATE SCHEMA ${schema}`));
      const sql = openPostgresExecutor(`${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`);
      return {
        sql,
        dataDir: null,
        close: async () => {
          await sql.close();
          await onPostgres((client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`SqlIncidentStore on ${backend.name}`, () => {
    let opened: Awaited<ReturnType<Backend['open']>>;
    let store: SqlIncidentStore;
    const sealer = registrySealer(randomBytes(32));
    before(async () => {
      opened = await backend.open();
      await migrate(opened.sql);
      store = new SqlIncidentStore(opened.sql, sealer);
    });
    after(() => opened.close());

    const incident = (summary: string) => ({ severity: 'high' as const, summary, clients: ['acme', 'beta'], openedAt: '2026-12-02T10:00:00.000Z', openedBy: 'ops@host' });

    test('incidents are numbered INC-1, INC-2, … and read back as stored, newest first', async () => {
      assert.equal(await store.anyOpened(), false);
      const first = await store.create(incident('first'));
      const second = await store.create(incident('second'));
      assert.deepEqual([first.id, second.id], ['INC-1', 'INC-2']);
      assert.equal(await store.anyOpened(), true);
      assert.deepEqual(await store.get('INC-1'), first);
      assert.deepEqual(first.clients, ['acme', 'beta']);
      assert.equal(first.status, 'open');
      assert.equal(first.openedAt, '2026-12-02T10:00:00.000Z');
      assert.deepEqual([first.notifications, first.containment, first.evidence], [[], [], []]);
      assert.deepEqual((await store.list()).map((i) => i.id), ['INC-2', 'INC-1']);
      assert.equal(await store.get('INC-99'), null);
    });

    test('an update stores every field the change returns; a refused change stores nothing', async () => {
      const notification = { clientId: 'acme', at: '2026-12-02T11:00:00.000Z', by: 'jake', channel: 'phone', recipient: '', recordedAt: '2026-12-02T11:05:00.000Z', recordedBy: 'ops@host' };
      const updated = await store.update('INC-1', (current) => ({
        ...current,
        status: 'closed',
        confirmedAt: '2026-12-02T10:30:00.000Z',
        confirmedScope: 'mailbox',
        closedAt: '2026-12-02T12:00:00.000Z',
        rootCause: 'leak',
        lessons: 'rotate',
        notifications: [notification],
        updatedAt: '2026-12-02T12:00:00.000Z',
      }));
      assert.deepEqual(await store.get('INC-1'), updated);
      assert.deepEqual(updated.notifications, [notification]);
      assert.equal(updated.status, 'closed');
      await assert.rejects(
        store.update('INC-2', () => {
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal((await store.get('INC-2'))?.updatedAt, '2026-12-02T10:00:00.000Z');
      await assert.rejects(store.update('INC-99', (current) => current), (error: unknown) => isFleetError(error) && error.code === 'not_found');
      assert.deepEqual((await store.list({ openOnly: true })).map((i) => i.id), ['INC-2']);
    });

    test('concurrent updates of one incident are serialised: none is lost', async () => {
      await Promise.all(
        Array.from({ length: 8 }, (_, n) =>
          store.update('INC-2', (current) => ({ ...current, evidence: [...current.evidence, { clientId: 'acme', file: `f${n}`, sha256: 'x', bytes: 1, signingKeyId: 'k', at: 'a', by: 'b' }] })),
        ),
      );
      assert.equal((await store.get('INC-2'))?.evidence.length, 8);
    });

    test("an incident's free text, whom it told and its containment are stored sealed, bound to the incident, and read back whole", async () => {
      const marker = `incident-marker-${randomBytes(6).toString('hex')}`;
      const created = await store.create(incident(`${marker}-summary: jane's payroll mail forwarded`));
      const notification = { clientId: 'acme', at: '2026-12-02T11:00:00.000Z', by: 'jake', channel: 'email', recipient: `${marker}-jane@acme.example`, recordedAt: '2026-12-02T11:05:00.000Z', recordedBy: 'ops@host' };
      const step = { clientId: 'acme', step: 'kill' as const, at: '2026-12-02T10:10:00.000Z', by: 'jake', outcome: 'success' as const, detail: `${marker}-detail` };
      const updated = await store.update(created.id, (current) => ({
        ...current,
        confirmedScope: `${marker}-scope`,
        rootCause: `${marker}-cause`,
        lessons: `${marker}-lessons`,
        remediation: `${marker}-remediation`,
        notifications: [notification],
        containment: [step],
      }));
      assert.deepEqual(await store.get(created.id), updated);
      assert.deepEqual([updated.summary, updated.rootCause, updated.notifications, updated.containment], [created.summary, `${marker}-cause`, [notification], [step]]);
      const [raw] = await opened.sql.query<Record<string, unknown>>('SELECT * FROM incidents WHERE id = $1', [created.id]);
      assert.doesNotMatch(JSON.stringify(raw), new RegExp(marker), 'no plaintext in the row');
      assert.match(String(raw?.['summary']), /^ps1\./);
      if (opened.dataDir !== null) {
        await opened.sql.reclaim(['incidents']);
        await opened.sql.query('CHECKPOINT');
        assert.deepEqual(await filesContaining([opened.dataDir], [marker]), [], 'no plaintext in the database files');
      }
      // A sealed value moved into another incident's row does not open there; under another key nothing opens.
      await opened.sql.query('UPDATE incidents SET root_cause = (SELECT root_cause FROM incidents WHERE id = $1) WHERE id = $2', [created.id, 'INC-1']);
      await assert.rejects(store.get('INC-1'), { code: 'integrity' });
      await assert.rejects(new SqlIncidentStore(opened.sql, registrySealer(randomBytes(32))).get(created.id), { code: 'integrity' });
      await opened.sql.query('UPDATE incidents SET root_cause = NULL WHERE id = $1', ['INC-1']);
    });

    test('incidents an earlier release wrote in plaintext are sealed once, and read back as they were', async () => {
      const plain = { summary: 'plain-summary-marker', notifications: [{ clientId: 'acme', at: '2026-12-02T11:00:00.000Z', by: 'jake', channel: 'phone', recipient: 'plain-recipient-marker', recordedAt: '2026-12-02T11:05:00.000Z', recordedBy: 'ops@host' }] };
      await opened.sql.query(
        `INSERT INTO incidents (id, number, severity, summary, clients, status, opened_at, opened_by, lessons, notifications, updated_at)
         VALUES ('INC-900', 900, 'low', $1, '["acme"]', 'open', now(), 'ops@host', 'plain-lessons-marker', $2::jsonb, now())`,
        [plain.summary, JSON.stringify(plain.notifications)],
      );
      assert.equal(await store.sealPlaintext(), 1);
      assert.equal(await store.sealPlaintext(), 0, 'once');
      const read = await store.get('INC-900');
      assert.deepEqual([read?.summary, read?.lessons, read?.notifications, read?.containment], [plain.summary, 'plain-lessons-marker', plain.notifications, []]);
      const [raw] = await opened.sql.query<Record<string, unknown>>("SELECT * FROM incidents WHERE id = 'INC-900'");
      assert.doesNotMatch(JSON.stringify(raw), /plain-/);
      if (opened.dataDir !== null) {
        await opened.sql.reclaim(['incidents']);
        await opened.sql.query('CHECKPOINT');
        assert.deepEqual(await filesContaining([opened.dataDir], ['plain-summary-marker', 'plain-recipient-marker', 'plain-lessons-marker']), []);
      }
    });

    test('the registry refuses a severity or status outside the lifecycle', async () => {
      await assert.rejects(store.create({ ...incident('bad'), severity: 'urgent' as never }));
      await assert.rejects(store.update('INC-2', (current) => ({ ...current, status: 'done' as never })));
    });
  });
}
