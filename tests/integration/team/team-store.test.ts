// The team store and the onboarding-check store on both registry databases (PGlite and PostgreSQL).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../../../orchestrator/src/adapters/postgres/postgres-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlOnboardingStore } from '../../../orchestrator/src/adapters/sql/sql-onboarding-store.ts';
import { sqlTeamStore } from '../../../orchestrator/src/adapters/sql/sql-team-store.ts';
import { onboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import { TEAM_POLICY } from '../../../orchestrator/src/domain/team-member.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';

const T0 = new Date('2026-12-01T08:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const backends: { name: string; open(): Promise<{ sql: SqlExecutor; close(): Promise<void> }> }[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-team-store-'));
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
      const schema = `team_${process.pid}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const sql = openPostgresExecutor(
        `${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      );
      return {
        sql,
        close: async () => {
          await sql.close();
          await admin.query(`DROP SCHEMA ${schema} CASCADE`);
          await admin.end();
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`team and onboarding stores on ${backend.name}`, () => {
    let db: Awaited<ReturnType<(typeof backends)[number]['open']>>;
    before(async () => {
      db = await backend.open();
      await migrate(db.sql);
    });
    after(() => db?.close());

    test('the bootstrap adds one first member, however many try at once', async () => {
      const { members } = sqlTeamStore(db.sql);
      const outcomes = await Promise.all(
        ['alice', 'bob', 'carol'].map((name) =>
          members.addMember(
            { name, email: `${name}@a.example`, addedAt: T0, addedBy: 'bootstrap@socket' },
            { onlyIfEmpty: true },
          ),
        ),
      );
      assert.deepEqual(outcomes.filter((outcome) => outcome === 'added').length, 1);
      assert.deepEqual(outcomes.filter((outcome) => outcome === 'not-empty').length, 2);
      const first = (await members.listMembers())[0]!;
      assert.equal(
        await members.addMember(
          { name: first.name, email: 'x@a.example', addedAt: T0, addedBy: first.name },
          { onlyIfEmpty: false },
        ),
        'exists',
      );
      assert.equal(
        await members.addMember(
          { name: 'dave', email: 'dave@a.example', addedAt: T0, addedBy: first.name },
          { onlyIfEmpty: false },
        ),
        'added',
      );
    });

    test('an enrolment code works once and not after it expires; a code’s time step is accepted once', async () => {
      const { members } = sqlTeamStore(db.sql);
      await members.createEnrolment('dave', 'hash-1', at(60));
      assert.equal(await members.consumeEnrolment('hash-1', at(1)), 'dave');
      assert.equal(await members.consumeEnrolment('hash-1', at(2)), null);
      await members.createEnrolment('dave', 'hash-2', at(60));
      assert.equal(await members.consumeEnrolment('hash-2', at(61)), null);
      assert.equal(await members.recordTotpUse('dave', 100, at(3)), false, 'no secret yet');
      await members.setTotpSecret('dave', 'ps1.sealed');
      assert.equal(await members.recordTotpUse('dave', 100, at(3)), true);
      assert.equal(await members.recordTotpUse('dave', 100, at(3)), false, 'replayed');
      assert.equal(await members.recordTotpUse('dave', 99, at(3)), false, 'older');
      const dave = await members.getMember('dave');
      assert.deepEqual(
        [dave?.status, dave?.lastTimeStep, dave?.enrolledAt],
        ['active', 100, at(3).toISOString()],
      );
    });

    test('wrong codes lock a member out for the window, then count afresh', async () => {
      const { members } = sqlTeamStore(db.sql);
      let locked: Date | null = null;
      for (let failure = 0; failure < TEAM_POLICY.lockout.maxFailures; failure += 1)
        locked = await members.recordFailure('dave', at(10), TEAM_POLICY.lockout);
      assert.equal(locked?.toISOString(), at(25).toISOString());
      assert.equal((await members.lockedUntil('dave', at(20)))?.toISOString(), at(25).toISOString());
      assert.equal(await members.lockedUntil('dave', at(26)), null);
      await members.clearFailures('dave');
      assert.equal(await members.recordFailure('dave', at(27), TEAM_POLICY.lockout), null);
    });

    test('sessions: kept by hash, their second factor renewed, all ended with their member', async () => {
      const { members, sessions } = sqlTeamStore(db.sql);
      const base = {
        member: 'dave',
        createdAt: T0.toISOString(),
        lastSeenAt: T0.toISOString(),
        expiresAt: at(480).toISOString(),
        secondFactorAt: T0.toISOString(),
      };
      await sessions.createSession({ tokenHash: 's1', ...base });
      await sessions.createSession({ tokenHash: 's2', ...base });
      await sessions.markSecondFactor('s1', at(30));
      assert.equal((await sessions.getSession('s1'))?.secondFactorAt, at(30).toISOString());
      assert.equal(await members.removeMember('dave'), true);
      assert.equal(await sessions.getSession('s2'), null);
      assert.equal(await members.getMember('dave'), null);
    });

    test('the onboarding store keeps each client’s last report', async () => {
      const store = new SqlOnboardingStore(db.sql);
      const acme = parseClientId('acme');
      await store.save(onboardingReport(acme, at(0), 'alice', {}));
      await store.save(
        onboardingReport(acme, at(5), 'bob', { dpa: { status: 'pass', evidence: ['attested'] } }),
      );
      const latest = await store.latestOf(acme);
      assert.deepEqual(
        [latest?.checkedBy, latest?.checkedAt, latest?.open.required],
        ['bob', at(5).toISOString(), 13],
      );
      assert.equal(latest?.items.find((item) => item.id === 'dpa')?.evidence[0], 'attested');
      assert.deepEqual(
        (await store.latest()).map((report) => report.clientId),
        ['acme'],
      );
      assert.equal(await store.latestOf(parseClientId('beta')), null);
    });
  });
}
