// The team store and the onboarding-check store on both registry databases (PGlite and PostgreSQL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { generate } from 'otplib';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../../../orchestrator/src/adapters/postgres/postgres-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import { MIGRATIONS } from '../../../orchestrator/src/adapters/sql/migrations.ts';
import { registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlOnboardingStore } from '../../../orchestrator/src/adapters/sql/sql-onboarding-store.ts';
import { sqlTeamStore } from '../../../orchestrator/src/adapters/sql/sql-team-store.ts';
import { composeTeam } from '../../../orchestrator/src/compose-team.ts';
import { onboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import { TEAM_POLICY } from '../../../orchestrator/src/domain/team-member.ts';
import { filesContaining } from '../../helpers/marker-scan.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';

const T0 = new Date('2026-12-01T08:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const backends: {
  name: string;
  open(): Promise<{ sql: SqlExecutor; dataDir: string | null; close(): Promise<void> }>;
}[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-team-store-'));
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
      const schema = `team_${process.pid}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const sql = openPostgresExecutor(
        `${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      );
      return {
        sql,
        dataDir: null,
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
    const sealer = registrySealer(randomBytes(32));
    before(async () => {
      db = await backend.open();
      await migrate(db.sql);
    });
    after(() => db?.close());

    test('the bootstrap adds one first member, however many try at once', async () => {
      const { members } = sqlTeamStore(db.sql, sealer);
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
      const { members } = sqlTeamStore(db.sql, sealer);
      await members.createEnrolment('dave', 'hash-1', at(60));
      assert.equal(await members.consumeEnrolment('dave', 'hash-1', at(1)), true);
      assert.equal(await members.consumeEnrolment('dave', 'hash-1', at(2)), false);
      await members.createEnrolment('dave', 'hash-2', at(60));
      assert.equal(await members.consumeEnrolment('dave', 'hash-2', at(61)), false);
      assert.equal(await members.recordTotpUse('dave', 'ps1.sealed', 100, at(3)), false, 'no secret yet');
      await members.setTotpSecret('dave', 'ps1.sealed');
      assert.equal(await members.recordTotpUse('dave', 'ps1.sealed', 100, at(3)), true);
      assert.equal(await members.recordTotpUse('dave', 'ps1.sealed', 100, at(3)), false, 'replayed');
      assert.equal(await members.recordTotpUse('dave', 'ps1.sealed', 99, at(3)), false, 'older');
      const dave = await members.getMember('dave');
      assert.deepEqual(
        [dave?.status, dave?.lastTimeStep, dave?.enrolledAt],
        ['active', 100, at(3).toISOString()],
      );
    });

    test('wrong codes lock a member out for the window, then count afresh', async () => {
      const { members } = sqlTeamStore(db.sql, sealer);
      let locked: Date | null = null;
      for (let failure = 0; failure < TEAM_POLICY.lockout.maxFailures; failure += 1)
        locked = await members.recordFailure('dave', 'tcp', at(10), TEAM_POLICY.lockout);
      assert.equal(locked?.toISOString(), at(25).toISOString());
      assert.equal((await members.lockedUntil('dave', 'tcp', at(20)))?.toISOString(), at(25).toISOString());
      assert.equal(await members.lockedUntil('dave', 'tcp', at(26)), null);
      await members.clearFailures('dave', 'tcp');
      assert.equal(await members.recordFailure('dave', 'tcp', at(27), TEAM_POLICY.lockout), null);
      await members.clearFailures('dave', 'tcp');
    });

    test('wrong codes over TCP never lock the socket, and failures recorded together are all counted', async () => {
      const { members } = sqlTeamStore(db.sql, sealer);
      const { maxFailures } = TEAM_POLICY.lockout;
      const locks = await Promise.all(
        Array.from({ length: maxFailures }, () =>
          members.recordFailure('dave', 'tcp', at(30), TEAM_POLICY.lockout),
        ),
      );
      assert.equal(locks.filter((lock) => lock !== null).length, 1, 'the last of them reached the limit');
      assert.equal((await members.lockedUntil('dave', 'tcp', at(31)))?.toISOString(), at(45).toISOString());
      assert.equal(await members.lockedUntil('dave', 'socket', at(31)), null, 'the socket is not locked');
      for (let failure = 0; failure < maxFailures - 1; failure += 1)
        assert.equal(await members.recordFailure('dave', 'socket', at(31), TEAM_POLICY.lockout), null);
      assert.equal(
        (await members.recordFailure('dave', 'socket', at(32), TEAM_POLICY.lockout))?.toISOString(),
        at(47).toISOString(),
      );
      await members.clearFailures('dave', 'socket');
      assert.equal(await members.lockedUntil('dave', 'socket', at(33)), null);
      assert.ok(await members.lockedUntil('dave', 'tcp', at(33)), 'clearing one channel leaves the other');
      assert.equal(
        await members.recordFailure('nobody', 'tcp', at(33), TEAM_POLICY.lockout),
        null,
        'nothing for an unknown member',
      );
      await members.clearFailures('dave', 'tcp');
    });

    test('sessions: kept by hash, their second factor renewed, all ended with their member', async () => {
      const { members, sessions } = sqlTeamStore(db.sql, sealer);
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

    test("a member's address is stored sealed, bound to their name, and read back whole", async () => {
      const store = sqlTeamStore(db.sql, sealer);
      const marker = `team-marker-${randomBytes(6).toString('hex')}`;
      const email = `${marker}@agency.example`;
      assert.equal(
        await store.members.addMember(
          { name: 'erin', email, addedAt: T0, addedBy: 'alice' },
          { onlyIfEmpty: false },
        ),
        'added',
      );
      const raw = async () => JSON.stringify(await db.sql.query('SELECT * FROM team_members'));
      assert.doesNotMatch(await raw(), new RegExp(marker), 'no address in any row');
      assert.equal((await store.members.getMember('erin'))?.email, email);
      assert.ok(
        (await store.members.listMembers()).some(
          (member) => member.name === 'erin' && member.email === email,
        ),
      );
      assert.equal(await store.sealPlaintext(), 0, 'nothing written in plaintext');

      // Bound to its member and to this registry's key: copied to another member, or under another key, it does not open.
      await store.members.addMember(
        { name: 'frank', email: 'frank@agency.example', addedAt: T0, addedBy: 'alice' },
        { onlyIfEmpty: false },
      );
      await db.sql.query(
        "UPDATE team_members SET email = (SELECT email FROM team_members WHERE name = 'erin') WHERE name = 'frank'",
      );
      await assert.rejects(store.members.getMember('frank'), { code: 'integrity' });
      await assert.rejects(sqlTeamStore(db.sql, registrySealer(randomBytes(32))).members.getMember('erin'), {
        code: 'integrity',
      });
      assert.equal(await store.members.removeMember('frank'), true);

      if (db.dataDir !== null) {
        await db.sql.query('CHECKPOINT');
        assert.deepEqual(
          await filesContaining([db.dataDir], [marker]),
          [],
          'no address in the database files',
        );
      }
    });

    test('addresses an earlier release wrote in plaintext are sealed once, read back as they were, and leave the database files', async () => {
      const store = sqlTeamStore(db.sql, sealer);
      const email = `plain-team-marker-${randomBytes(6).toString('hex')}@agency.example`;
      await db.sql.query(
        "INSERT INTO team_members (name, email, status, added_at, added_by) VALUES ('gina', $1, 'enrolling', $2::timestamptz, 'alice')",
        [email, T0.toISOString()],
      );
      await store.members.createEnrolment('gina', 'hash-gina', at(60));
      assert.equal(
        (await store.members.getMember('gina'))?.email,
        email,
        'read as it is before it is sealed',
      );
      assert.equal(await store.sealPlaintext(), 1);
      assert.equal(await store.sealPlaintext(), 0, 'once');
      assert.doesNotMatch(
        JSON.stringify(await db.sql.query('SELECT * FROM team_members')),
        /plain-team-marker/,
      );
      assert.equal((await store.members.getMember('gina'))?.email, email);
      assert.equal(
        await store.members.consumeEnrolment('gina', 'hash-gina', at(1)),
        true,
        'what refers to the member still does',
      );
      if (db.dataDir !== null) {
        await db.sql.query('CHECKPOINT');
        assert.deepEqual(await filesContaining([db.dataDir], ['plain-team-marker']), []);
      }
      assert.equal(await store.members.removeMember('gina'), true);
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

describe('a registry whose team members were written before their addresses were sealed', () => {
  test('is sealed at open, once; the members are listed, enrol and sign in as before; no address is in any file', async () => {
    const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-team-upgrade-'));
    const dataDir = path.join(homeDir, 'registry');
    const executor = await openPgliteExecutor(dataDir);
    try {
      // The schema as the release before this sealing left it, with a member written the way it wrote them.
      await executor.transaction(async (tx) => {
        await tx.query(
          'CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        for (const migration of MIGRATIONS.filter((candidate) => candidate.version <= 8)) {
          await tx.query(migration.sql);
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
        }
      });
      const email = 'old-member-marker@agency.example';
      await executor.query(
        `INSERT INTO team_members (name, email, status, added_at, added_by, failures, failure_window_started_at, locked_until)
         VALUES ('hana', $1, 'enrolling', $2::timestamptz, 'bootstrap@socket', 5, $3::timestamptz, $4::timestamptz)`,
        [email, T0.toISOString(), at(-10).toISOString(), at(5).toISOString()],
      );

      const opened = await registryOn(executor, homeDir);
      assert.deepEqual(opened.sealedNow, {
        clients: 0,
        opsLogEntries: 0,
        incidents: 0,
        portalRows: 0,
        teamMembers: 1,
      });
      assert.equal((await registryOn(executor, homeDir)).sealedNow.teamMembers, 0, 'once');
      assert.doesNotMatch(
        JSON.stringify(await executor.query('SELECT * FROM team_members')),
        /old-member-marker/,
      );

      const now = at(0);
      const team = await composeTeam({
        homeDir,
        store: opened.teamStore,
        registry: opened.registry,
        clock: { now: () => now },
      });
      assert.deepEqual(
        (await team.members.list()).map((member) => [member.name, member.email]),
        [['hana', email]],
      );
      const { enrolment } = await team.members.reissue({ name: 'hana', actor: 'hana' });
      const { secret, uri } = await team.members.enrol({ name: 'hana', code: enrolment.code });
      assert.ok(decodeURIComponent(uri).includes(email), 'the authenticator entry names the address');
      // The lockout that release recorded holds, on TCP (where guessing comes from); the socket still signs in.
      assert.equal(
        (await opened.teamStore.members.lockedUntil('hana', 'tcp', now))?.toISOString(),
        at(5).toISOString(),
      );
      assert.equal(await opened.teamStore.members.lockedUntil('hana', 'socket', now), null);
      const session = await team.sessions.login(
        'hana',
        await generate({ secret, epoch: Math.floor(now.getTime() / 1000) }),
        'socket',
      );
      assert.equal((await team.sessions.authenticate(session.token))?.member, 'hana');
      const added = 'new-member-marker@agency.example';
      await team.members.add({ name: 'ivan', email: added, actor: 'hana', bootstrap: false });
      assert.equal((await opened.teamStore.members.getMember('ivan'))?.email, added);

      await executor.query('CHECKPOINT');
      assert.deepEqual(await filesContaining([dataDir], ['old-member-marker', 'new-member-marker']), []);
    } finally {
      await executor.close();
      await rm(homeDir, { recursive: true, force: true });
    }
  });
});
