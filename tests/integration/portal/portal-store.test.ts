import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../../../orchestrator/src/adapters/postgres/postgres-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const acme = { clientId: 'acme', email: 'admin@acme.com' };
const hex = (n: number) => n.toString(16).padStart(64, '0');

async function onPostgres(work: (url: string) => Promise<void>): Promise<() => Promise<void>> {
  const schema = `portal_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await work(`${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  return async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  };
}

const backends: { name: string; open(): Promise<{ sql: SqlExecutor; cleanup(): Promise<void> }> }[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'portal-store-'));
      const sql = await openPgliteExecutor(path.join(dir, 'registry'));
      return { sql, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async open() {
      let sql: SqlExecutor | undefined;
      const drop = await onPostgres(async (url) => {
        sql = openPostgresExecutor(url);
      });
      return { sql: sql as unknown as SqlExecutor, cleanup: drop };
    },
  },
];

for (const backend of backends) {
  void describe(`SqlPortalStore on ${backend.name}`, () => {
    let sql: SqlExecutor;
    let cleanup: () => Promise<void>;
    let store: SqlPortalStore;

    before(async () => {
      ({ sql, cleanup } = await backend.open());
      await migrate(sql);
      store = new SqlPortalStore(sql, registrySealer(randomBytes(32)));
    });
    after(async () => {
      await sql?.close();
      await cleanup?.();
    });

    void test('an enrolment link is seen without being used, used once, and not after it expires', async () => {
      await store.enrolments.createEnrolment({
        tokenHash: hex(1),
        ...acme,
        createdAt: T0,
        expiresAt: at(86_400_000),
      });
      assert.deepEqual(await store.enrolments.peekEnrolment(hex(1), at(1000)), {
        ...acme,
        expiresAt: at(86_400_000),
      });
      assert.deepEqual(await store.enrolments.consumeEnrolment(hex(1), at(1000)), acme);
      assert.equal(await store.enrolments.consumeEnrolment(hex(1), at(2000)), null);
      assert.equal(await store.enrolments.peekEnrolment(hex(1), at(2000)), null);
      await store.enrolments.createEnrolment({
        tokenHash: hex(2),
        ...acme,
        createdAt: T0,
        expiresAt: at(1000),
      });
      assert.equal(await store.enrolments.consumeEnrolment(hex(2), at(1000)), null);
    });

    void test('a new enrolment link replaces every unused earlier link of that admin, and no other admin’s', async () => {
      const other = { clientId: acme.clientId, email: 'second@acme.example' };
      await store.enrolments.createEnrolment({ tokenHash: hex(11), ...acme, createdAt: T0, expiresAt: at(86_400_000) });
      await store.enrolments.createEnrolment({ tokenHash: hex(12), ...other, createdAt: T0, expiresAt: at(86_400_000) });
      await store.enrolments.createEnrolment({ tokenHash: hex(13), ...acme, createdAt: at(1000), expiresAt: at(86_400_000) });
      assert.equal(await store.enrolments.peekEnrolment(hex(11), at(2000)), null, 'the earlier link is dead once a new one is issued');
      assert.deepEqual(await store.enrolments.consumeEnrolment(hex(13), at(2000)), acme);
      assert.equal(await store.enrolments.consumeEnrolment(hex(11), at(3000)), null, 'nor does it open after the new one is used');
      assert.deepEqual(await store.enrolments.consumeEnrolment(hex(12), at(3000)), other, 'another admin’s link stays');
    });

    void test('credentials: a TOTP step and a passkey counter are accepted once; a finished re-enrolment replaces the rest', async () => {
      const base = { ...acme, sealed: 'ps1.x', createdAt: T0 };
      await store.credentials.addCredential({
        ...base,
        id: 'totp-old',
        kind: 'totp',
        lookupHash: null,
        confirmed: true,
        enrolmentHash: hex(10),
      });
      await store.credentials.addCredential({
        ...base,
        id: 'pk-new',
        kind: 'passkey',
        lookupHash: hex(20),
        confirmed: true,
        enrolmentHash: hex(11),
      });
      await store.credentials.addCredential({
        ...base,
        id: 'totp-new',
        kind: 'totp',
        lookupHash: null,
        confirmed: false,
        enrolmentHash: hex(11),
      });
      assert.deepEqual(
        (await store.credentials.listTotpByEmail('admin@acme.com')).map((c) => c.id),
        ['totp-old'],
      );
      assert.equal(await store.credentials.recordUse('totp-old', { at: at(1), timeStep: 100 }), true);
      assert.equal(
        await store.credentials.recordUse('totp-old', { at: at(2), timeStep: 100 }),
        false,
        'same step: a replay',
      );
      assert.equal(await store.credentials.recordUse('totp-old', { at: at(3), timeStep: 99 }), false);
      assert.equal(await store.credentials.recordUse('totp-old', { at: at(4), timeStep: 101 }), true);
      assert.equal(await store.credentials.recordUse('pk-new', { at: at(5), counter: 3 }), true);
      assert.equal(
        await store.credentials.recordUse('pk-new', { at: at(6), counter: 3 }),
        false,
        'a counter that does not grow',
      );
      assert.equal((await store.credentials.findPasskey(hex(20)))?.counter, 3);
      await store.credentials.replaceCredentials(acme, hex(11));
      assert.deepEqual(
        (await store.credentials.listCredentials(acme)).map((c) => c.id),
        ['pk-new'],
        'older and unconfirmed ones go',
      );
    });

    void test('sessions: a challenge is taken once and not after it expires; ending an admin ends all their sessions', async () => {
      await store.sessions.createSession({
        idHash: hex(30),
        stage: 'anonymous',
        clientId: null,
        email: null,
        enrolmentHash: null,
        now: T0,
        expiresAt: at(60_000),
      });
      await store.sessions.setChallenge(hex(30), hex(31), at(5000));
      assert.equal(await store.sessions.takeChallenge(hex(30), at(1000)), hex(31));
      assert.equal(await store.sessions.takeChallenge(hex(30), at(1000)), null);
      await store.sessions.setChallenge(hex(30), hex(32), at(5000));
      assert.equal(await store.sessions.takeChallenge(hex(30), at(6000)), null);
      for (const n of [33, 34]) {
        await store.sessions.createSession({
          idHash: hex(n),
          stage: 'active',
          ...acme,
          enrolmentHash: null,
          now: T0,
          expiresAt: at(3_600_000),
        });
      }
      await store.sessions.touchSession(hex(33), at(9000));
      assert.equal((await store.sessions.getSession(hex(33)))?.lastSeenAt, at(9000).toISOString());
      assert.equal(await store.sessions.endSessions(acme), 2);
      assert.equal(await store.sessions.getSession(hex(34)), null);
    });

    void test('failed sign-ins lock an address for a period, without extending it, and start afresh after', async () => {
      const policy = { maxFailures: 3, windowMs: 60_000 };
      assert.equal(await store.throttle.recordFailure('totp:a', at(0), policy), null);
      assert.equal(await store.throttle.recordFailure('totp:a', at(1000), policy), null);
      assert.deepEqual(await store.throttle.recordFailure('totp:a', at(2000), policy), at(62_000));
      assert.deepEqual(
        await store.throttle.recordFailure('totp:a', at(3000), policy),
        at(62_000),
        'not extended',
      );
      assert.deepEqual(await store.throttle.lockedUntil('totp:a', at(61_000)), at(62_000));
      assert.equal(await store.throttle.lockedUntil('totp:a', at(62_000)), null);
      assert.equal(
        await store.throttle.recordFailure('totp:a', at(63_000), policy),
        null,
        'a new count after the lockout',
      );
      await store.throttle.clearFailures('totp:a');
      assert.equal(await store.throttle.lockedUntil('totp:a', at(63_000)), null);
    });

    void test('a link nonce is used once; known admins are listed and forgotten; expired rows are purged', async () => {
      assert.equal(await store.links.useLinkNonce(hex(40), 'acme', at(60_000), T0), true);
      assert.equal(await store.links.useLinkNonce(hex(40), 'acme', at(60_000), T0), false);
      assert.equal(await store.links.isLinkNonceUsed(hex(40)), true);
      await store.credentials.addCredential({
        clientId: 'beta',
        email: 'boss@beta.com',
        id: 'b1',
        kind: 'totp',
        lookupHash: null,
        sealed: 'ps1.y',
        confirmed: true,
        enrolmentHash: hex(50),
        createdAt: T0,
      });
      assert.ok(
        (await store.knownAdmins()).some(
          (admin) => admin.clientId === 'beta' && admin.email === 'boss@beta.com',
        ),
      );
      await store.forgetAdmin({ clientId: 'beta', email: 'boss@beta.com' });
      assert.ok(!(await store.knownAdmins()).some((admin) => admin.clientId === 'beta'));
      await store.purgeExpired(at(120_000));
      assert.equal(await store.links.isLinkNonceUsed(hex(40)), false);
      assert.equal(await store.sessions.getSession(hex(30)), null);
    });

    void test("admins' addresses are stored sealed yet found by address; sign-in subjects as one-way keys; an earlier release's plaintext sealed once", async () => {
      const marker = 'sealed-admin-marker@gamma.com';
      const gamma = { clientId: 'gamma', email: marker };
      await store.enrolments.createEnrolment({ tokenHash: hex(70), clientId: 'gamma', email: marker, createdAt: T0, expiresAt: at(60_000) });
      await store.credentials.addCredential({ ...gamma, id: 'g1', kind: 'totp', lookupHash: null, sealed: 'ps1.z', confirmed: true, enrolmentHash: hex(71), createdAt: T0 });
      await store.sessions.createSession({ idHash: hex(72), stage: 'active', clientId: 'gamma', email: marker, enrolmentHash: null, now: T0, expiresAt: at(60_000) });
      await store.throttle.recordFailure(`totp:${marker}`, T0, { maxFailures: 5, windowMs: 60_000 });
      const raw = async () =>
        JSON.stringify([
          await sql.query("SELECT * FROM portal_enrolments WHERE client_id = 'gamma'"),
          await sql.query("SELECT * FROM portal_credentials WHERE client_id = 'gamma'"),
          await sql.query("SELECT * FROM portal_sessions WHERE client_id = 'gamma'"),
          await sql.query('SELECT * FROM portal_login_failures'),
        ]);
      assert.doesNotMatch(await raw(), /sealed-admin-marker/, 'no address in any row');
      assert.equal((await store.enrolments.peekEnrolment(hex(70), T0))?.email, marker);
      assert.deepEqual((await store.credentials.listCredentials(gamma)).map((credential) => credential.email), [marker]);
      assert.deepEqual((await store.credentials.listTotpByEmail(marker)).map((credential) => credential.id), ['g1']);
      assert.equal((await store.sessions.getSession(hex(72)))?.email, marker);
      assert.ok((await store.knownAdmins()).some((admin) => admin.clientId === 'gamma' && admin.email === marker));
      assert.equal(await store.sealPlaintext(), 0, 'nothing written in plaintext');

      // Rows as an earlier release wrote them: sealed at the next start, and found as before.
      await sql.query("UPDATE portal_credentials SET admin_email = $1 WHERE client_id = 'gamma'", [marker]);
      await sql.query("UPDATE portal_sessions SET admin_email = $1 WHERE client_id = 'gamma'", [marker]);
      const locked = 'totp:locked-sealed-admin-marker@gamma.com';
      await sql.query('INSERT INTO portal_login_failures (subject, failures, window_started_at, locked_until) VALUES ($1, 5, $2, $3)', [locked, T0.toISOString(), at(60_000).toISOString()]);
      assert.equal(await store.sealPlaintext(), 3);
      assert.equal(await store.sealPlaintext(), 0, 'once');
      assert.doesNotMatch(await raw(), /sealed-admin-marker/);
      assert.deepEqual((await store.credentials.listTotpByEmail(marker)).map((credential) => credential.id), ['g1']);
      assert.ok(await store.throttle.lockedUntil(locked, T0), 'the lockout an earlier release recorded still holds');

      await store.forgetAdmin(gamma);
      assert.ok(!(await store.knownAdmins()).some((admin) => admin.clientId === 'gamma'));
      assert.equal(await store.sessions.getSession(hex(72)), null);
    });
  });
}
