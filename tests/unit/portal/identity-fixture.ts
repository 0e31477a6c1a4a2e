// The portal's identity parts (enrolment, passkeys, TOTP, sessions) over the real SQL store on PGlite in a
// temporary directory, with a clock the test moves and a gateway whose admin lists the test edits.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import type { AdminRef } from '../../../orchestrator/src/ports/portal-store.ts';
import type { ClientGateway } from '../../../orchestrator/src/portal/client-gateway.ts';
import { Enrolment } from '../../../orchestrator/src/portal/identity/enrolment.ts';
import { Passkeys, type RelyingParty } from '../../../orchestrator/src/portal/identity/passkeys.ts';
import { SessionManager, type LiveSession } from '../../../orchestrator/src/portal/identity/sessions.ts';
import { TotpFactor } from '../../../orchestrator/src/portal/identity/totp.ts';
import type { SoftwareAuthenticator } from './software-authenticator.ts';

export const RP: RelyingParty = { id: 'portal.test', origin: 'https://portal.test', name: 'Client portal' };
export const MINUTE = 60_000;

export interface IdentityFixture {
  store: SqlPortalStore;
  admins: Map<string, string[]>;
  enrolment: Enrolment;
  passkeys: Passkeys;
  totp: TotpFactor;
  sessions: SessionManager;
  advance(ms: number): void;
  now(): Date;
  /** Uses a new enrolment link of `admin`: the enrolling session and the enrolment's hash. */
  startEnrolment(admin: AdminRef): Promise<{ session: LiveSession; enrolmentHash: string }>;
  /** Registers `authenticator` as a passkey in the enrolling session; true when the portal kept it. */
  registerPasskey(
    admin: AdminRef,
    enrolling: { session: LiveSession; enrolmentHash: string },
    authenticator: SoftwareAuthenticator,
  ): Promise<boolean>;
  /** A passkey sign-in from a fresh anonymous session: the admin it proves, or null. */
  signInWithPasskey(authenticator: SoftwareAuthenticator): Promise<AdminRef | null>;
  /** Sets up and confirms an authenticator app in the enrolling session; its secret. */
  setUpApp(admin: AdminRef, enrolling: { session: LiveSession; enrolmentHash: string }): Promise<string>;
  /** The code an app with `secret` shows now. */
  code(secret: string): Promise<string>;
  close(): Promise<void>;
}

export async function startIdentityFixture(): Promise<IdentityFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portal-identity-'));
  const sql = await openPgliteExecutor(path.join(dir, 'registry'));
  await migrate(sql);
  const store = new SqlPortalStore(sql, registrySealer(randomBytes(32)));
  let now = new Date('2026-06-01T09:00:00.000Z');
  const clock = { now: () => now };
  const admins = new Map<string, string[]>();
  const gateway = { admins: async (clientId: string) => admins.get(clientId) ?? [] } as unknown as ClientGateway;
  const credentialsKey = randomBytes(32);
  const enrolment = new Enrolment({ store, gateway, clock, ttlMs: 24 * 60 * MINUTE });
  const passkeys = new Passkeys({ store, clock, sealingKey: credentialsKey, relyingParty: () => RP });
  const totp = new TotpFactor({
    store,
    clock,
    sealingKey: credentialsKey,
    lockout: { maxFailures: 5, windowMs: 15 * MINUTE },
  });
  const sessions = new SessionManager({
    store: store.sessions,
    clock,
    csrfKey: randomBytes(32),
    policy: { idleMs: 30 * MINUTE, absoluteMs: 12 * 60 * MINUTE },
  });
  const code = (secret: string) => generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
  return {
    store,
    admins,
    enrolment,
    passkeys,
    totp,
    sessions,
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    now: () => now,
    async startEnrolment(admin) {
      const { token } = await enrolment.issue(admin.clientId, admin.email);
      const used = await enrolment.consume(token);
      if (!used) throw new Error('the enrolment link did not work');
      const session = await sessions.start('enrolling', used.admin, used.enrolmentHash);
      return { session, enrolmentHash: used.enrolmentHash };
    },
    async registerPasskey(admin, enrolling, authenticator) {
      const options = await passkeys.registrationOptions(enrolling.session, admin);
      return passkeys.register(
        enrolling.session,
        admin,
        enrolling.enrolmentHash,
        authenticator.register(options, RP.origin),
      );
    },
    async signInWithPasskey(authenticator) {
      const anonymous = await sessions.start('anonymous', null);
      const options = await passkeys.authenticationOptions(anonymous);
      return passkeys.authenticate(anonymous, authenticator.assert(options, RP.origin));
    },
    async setUpApp(admin, enrolling) {
      const pending = await totp.pendingSetup(admin, enrolling.enrolmentHash, 'test', true);
      if (!pending) throw new Error('no app set-up');
      if (!(await totp.confirm(admin, enrolling.enrolmentHash, await code(pending.secret))))
        throw new Error('the app was not confirmed');
      return pending.secret;
    },
    code,
    async close() {
      await sql.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
