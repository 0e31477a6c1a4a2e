// The incident store on both registry backends (PGlite and PostgreSQL), through the migrations.
import assert from 'node:assert/strict';
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
import { SqlIncidentStore } from '../../../orchestrator/src/adapters/sql/sql-incident-store.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';

interface Backend {
  name: string;
  open(): Promise<{ sql: SqlExecutor; close(): Promise<void> }>;
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
    before(async () => {
      opened = await backend.open();
      await migrate(opened.sql);
      store = new SqlIncidentStore(opened.sql);
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

    test('the registry refuses a severity or status outside the lifecycle', async () => {
      await assert.rejects(store.create({ ...incident('bad'), severity: 'urgent' as never }));
      await assert.rejects(store.update('INC-2', (current) => ({ ...current, status: 'done' as never })));
    });
  });
}
