import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { LockoutPolicy, PortalStore, StoredCredential } from '../../../orchestrator/src/ports/portal-store.ts';
import { seal } from '../../../orchestrator/src/portal/crypto/sealed-box.ts';
import { nextFailureState, type FailureState } from '../../../orchestrator/src/portal/identity/lockout.ts';

/** acme's admin `email` with a confirmed authenticator app: `secret` sealed under `key`, as enrolment leaves it. */
export function confirmedTotpCredential(input: { key: Buffer; secret: string; email: string; createdAt: Date }): StoredCredential {
  return {
    id: 'c1',
    clientId: 'acme',
    email: input.email,
    kind: 'totp',
    lookupHash: null,
    sealed: seal(input.key, input.secret, `totp:acme:${input.email}`),
    counter: 0,
    lastTimeStep: null,
    confirmed: true,
    enrolmentHash: 'e'.repeat(64),
    createdAt: input.createdAt.toISOString(),
    lastUsedAt: null,
  };
}

/** The parts of the portal store a TOTP sign-in uses, in memory, each call taking a turn of the event loop as a database would. */
export function memoryTotpStore(credential: StoredCredential): PortalStore {
  const failures = new Map<string, FailureState>();
  const store = {
    credentials: {
      listTotpByEmail: async (email: string) => {
        await yieldToIo();
        return email === credential.email ? [{ ...credential }] : [];
      },
      recordUse: async (_id: string, use: { at: Date; timeStep?: number }) => {
        await yieldToIo();
        if (use.timeStep === undefined) return false;
        if (credential.lastTimeStep !== null && credential.lastTimeStep >= use.timeStep) return false;
        credential.lastTimeStep = use.timeStep;
        return true;
      },
    },
    throttle: {
      lockedUntil: async (subject: string, now: Date) => {
        await yieldToIo();
        const until = failures.get(subject)?.lockedUntil;
        return until && until.getTime() > now.getTime() ? until : null;
      },
      recordFailure: async (subject: string, now: Date, policy: LockoutPolicy) => {
        await yieldToIo();
        const next = nextFailureState(failures.get(subject) ?? null, now, policy);
        failures.set(subject, next);
        return next.lockedUntil;
      },
      clearFailures: async (subject: string) => {
        await yieldToIo();
        failures.delete(subject);
      },
    },
  };
  return store as unknown as PortalStore;
}
