// The doctor run against fakes of everything it asks: a live check that does not answer is reported as
// not checked (never waited on for ever, never passed), the audit export read for markers stops at its
// cap, an attestation re-runs the checklist rather than re-stamping the last run's results, and a config
// beyond the safe defaults is done only with a recorded confirmation.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Writable } from 'node:stream';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { pack } from 'tar-stream';
import type { ItemStatus, OnboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import type { ClientRecord, NewOpsLogEntry, OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  OnboardingDoctor,
  type DoctorDependencies,
} from '../../../orchestrator/src/services/doctor/onboarding-doctor.ts';

const NOW = new Date('2026-06-10T12:00:00.000Z');
const MEMBER = 'alice';
// A hung agent: it answers (with an error) only after half a minute, far beyond the doctor's bound here.
const hung: NodeJS.Timeout[] = [];
const never = <T>(): Promise<T> =>
  new Promise<T>((_resolve, reject) => {
    hung.push(setTimeout(() => reject(new FleetError('unavailable', 'answered at last')), 30_000));
  });
after(() => hung.forEach((timer) => clearTimeout(timer)));

interface BedOptions {
  config?: Record<string, unknown>;
  audit?: Pick<DoctorDependencies['agents'], 'checkpoint' | 'verifyAudit'>;
  exportAudit?: DoctorDependencies['agents']['exportAudit'];
  supportGrant?: boolean;
  checkTimeoutMs?: number;
  grants?: DoctorDependencies['grants'];
  isolation?: DoctorDependencies['isolation'];
  reach?: DoctorDependencies['agents']['reach'];
  save?: DoctorDependencies['store']['save'];
}

function bed(options: BedOptions = {}) {
  const log: OpsLogEntry[] = [];
  const append = (entry: NewOpsLogEntry): OpsLogEntry => {
    const made = { ...entry, seq: log.length + 1, at: entry.at ?? NOW.toISOString(), prevHash: '', hash: '' } as OpsLogEntry;
    log.push(made);
    return made;
  };
  const record: ClientRecord = {
    id: 'acme' as ClientRecord['id'],
    status: 'active',
    provider: 'gmail',
    admins: ['admin@acme.example'],
    configYaml: JSON.stringify({ client: 'acme', admins: ['admin@acme.example'], ...options.config }),
    subnet: null,
    onboardingStartedAt: '2026-06-01T00:00:00.000Z',
    operationId: null,
    operationHeartbeatAt: null,
    statusReason: null,
    createdAt: '2026-06-01T00:00:00.000Z',
    updatedAt: '2026-06-01T00:00:00.000Z',
  };
  let saved: OnboardingReport | null = null;
  const registry = {
    getClient: async () => record,
    listOpsLog: async () => [...log],
    appendOpsLog: async (entry: NewOpsLogEntry) => append(entry),
    listClients: async () => [record],
  } as unknown as Registry;
  const deps: DoctorDependencies = {
    registry,
    volumes: {
      snapshot: async () => {
        const empty = pack();
        empty.finalize();
        return empty;
      },
    },
    agentImage: 'agent:test',
    isolation: options.isolation ?? null,
    internalNetwork: true,
    grants: options.grants ?? { grantScopes: async () => null },
    agents: {
      checkpoint: options.audit?.checkpoint ?? (async () => 'saved' as const),
      verifyAudit:
        options.audit?.verifyAudit ??
        (async () => ({ verification: { ok: true, count: 3 }, checkpoint: { seq: 3, at: NOW.toISOString() } })),
      exportAudit: options.exportAudit ?? (async () => undefined),
      reach:
        options.reach ??
        (async () => {
          throw new FleetError('unavailable', 'no agent in this bed');
        }),
    },
    control: { request: async <T>() => ({}) as T },
    support: {
      list: async () =>
        options.supportGrant === true
          ? ([{ status: 'active', member: MEMBER }] as unknown as Awaited<ReturnType<DoctorDependencies['support']['list']>>)
          : [],
      authorize: async () => ({}) as Awaited<ReturnType<DoctorDependencies['support']['authorize']>>,
    },
    portalCredentials: null,
    alerting: null,
    store: {
      save: async (report) => {
        await options.save?.(report);
        saved = report;
      },
      latest: async () => (saved === null ? [] : [saved]),
      latestOf: async () => saved,
    },
    clock: { now: () => NOW },
    ...(options.checkTimeoutMs === undefined ? {} : { checkTimeoutMs: options.checkTimeoutMs }),
  };
  return { doctor: new OnboardingDoctor(deps), log, append };
}

const itemOf = (report: OnboardingReport, id: string) => {
  const item = report.items.find((candidate) => candidate.id === id);
  assert.ok(item, id);
  return item;
};
const statusOf = (report: OnboardingReport, id: string): ItemStatus => itemOf(report, id).status;

describe('a live check that does not answer', () => {
  test('is reported as not checked, and the run still answers', async () => {
    const { doctor } = bed({ audit: { checkpoint: never, verifyAudit: never }, checkTimeoutMs: 20 });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    const audit = itemOf(report, 'audit-logging');
    assert.equal(audit.status, 'pending');
    assert.match(audit.evidence[0] ?? '', /^not checked: the agent’s audit log did not answer within 1 s/);
    assert.equal(report.open.required > 0, true);
  });

  test('an audit export that never ends leaves the recent subjects out, and the run still answers', async () => {
    const { doctor } = bed({ supportGrant: true, exportAudit: never, checkTimeoutMs: 20 });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    const encryption = itemOf(report, 'encryption-at-rest');
    assert.equal(encryption.status, 'pass', 'the volume itself was scanned');
    assert.match(encryption.evidence[0] ?? '', /recent subjects not among them \(the audit export did not finish within 1 s\)/);
  });
});

describe('the recent subjects read for markers', () => {
  test('the export is read up to the cap, then refused', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    let accepted = 0;
    const exportAudit = async (_client: unknown, _query: unknown, sink: NodeJS.WritableStream) => {
      const writable = sink as Writable;
      for (let index = 0; index < 64; index += 1) {
        const written = await new Promise<boolean>((resolve) =>
          writable.write(chunk, (error) => resolve(error === undefined || error === null)),
        );
        if (!written) throw writable.errored ?? new Error('refused');
        accepted += 1;
      }
    };
    const { doctor } = bed({ supportGrant: true, exportAudit });
    await doctor.check({ clientId: 'acme', member: MEMBER });
    // 4 MiB of 256 KiB chunks is 16; the one after the cap is refused.
    assert.equal(accepted, 16);
  });
});

describe('an attestation', () => {
  test('runs the checklist again instead of re-stamping the last run’s results as checked now', async () => {
    let chainOk = true;
    const { doctor } = bed({
      audit: {
        checkpoint: async () => 'saved' as const,
        verifyAudit: async () => ({
          verification: chainOk ? { ok: true, count: 3 } : { ok: false, count: 3, break: { kind: 'hash', seq: 2 } },
          checkpoint: { seq: 3, at: NOW.toISOString() },
        }),
      },
    });
    const first = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(first, 'audit-logging'), 'pass');
    chainOk = false;
    const attested = await doctor.attest({
      clientId: 'acme',
      item: 'dpa',
      note: 'signed DPA filed in the client folder',
      notApplicable: false,
      member: 'bob',
    });
    assert.equal(statusOf(attested, 'dpa'), 'pass');
    assert.equal(statusOf(attested, 'audit-logging'), 'fail', 'the broken chain is seen, not the old pass');
  });
});

describe('a config beyond the safe defaults', () => {
  const unsafe = {
    rateLimits: { perHour: 10_000, perDay: 100_000 },
    alwaysApprovalTypes: [],
    permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'files.share': true },
  };

  test('provisioned without anyone confirming it fails the items it concerns', async () => {
    const { doctor } = bed({ config: unsafe });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(report, 'rate-limits'), 'fail');
    assert.match(itemOf(report, 'rate-limits').evidence.join('\n'), /rateLimits\.perHour\) with no recorded confirmation/);
    assert.equal(statusOf(report, 'draft-review-send'), 'fail');
    assert.match(itemOf(report, 'draft-review-send').evidence.join('\n'), /\(approval\.offer\) with no recorded confirmation/);
    assert.equal(statusOf(report, 'oauth-scopes'), 'fail');
    assert.match(itemOf(report, 'oauth-scopes').evidence.join('\n'), /\(permissions\.files\.share\) with no recorded confirmation/);
  });

  test('passes with each departure confirmed on record, naming who confirmed it', async () => {
    const { doctor, append } = bed({ config: { rateLimits: { perHour: 50, perDay: 300 } } });
    for (const rail of ['rateLimits.perHour', 'rateLimits.perDay'])
      append({ actor: 'carol', action: 'settings-guard-rail', clientId: 'acme', reason: 'r', outcome: 'confirmed', details: { rail, version: 2 } });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(report, 'rate-limits'), 'pass');
    assert.match(itemOf(report, 'rate-limits').evidence.join('\n'), /rateLimits\.perHour\): confirmed by carol at /);
  });

  test('a later crossing nobody confirmed (a config-file edit) voids an earlier confirmation', async () => {
    const { doctor, append } = bed({ config: { rateLimits: { perHour: 50, perDay: 100 } } });
    const rail = { rail: 'rateLimits.perHour', version: 2 };
    append({ actor: 'carol', action: 'settings-guard-rail', clientId: 'acme', reason: 'r', outcome: 'confirmed', details: rail });
    append({ actor: 'config-file', action: 'settings-guard-rail', clientId: 'acme', reason: 'r', outcome: 'made-by-config-file', details: { ...rail, version: 4 } });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(report, 'rate-limits'), 'fail');
  });
});

// An agent that is stopped, as the agent proxy reports it (reach), and one whose certificate names another client.
const stopped = async (): Promise<never> => {
  throw new FleetError('unavailable', 'the agent of acme is not running (active)', { retryable: true });
};
const impostor = async (): Promise<never> => {
  throw new FleetError('integrity', 'the agent at 10.0.0.2:8443 is refused: its certificate names another client');
};
const EMULATOR = 'http://10.0.0.9:8025';
const inspectorAt = (mailEndpoint: string): NonNullable<DoctorDependencies['isolation']> => ({
  inspectIsolation: async () => ({ mailEndpoint }) as unknown as NonNullable<Awaited<ReturnType<NonNullable<DoctorDependencies['isolation']>['inspectIsolation']>>>,
});

describe('a check that could not run', () => {
  test('an agent that does not answer leaves its audit item pending, saying to run the doctor again', async () => {
    const { doctor } = bed({ audit: { checkpoint: stopped, verifyAudit: stopped } });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    const audit = itemOf(report, 'audit-logging');
    assert.equal(audit.status, 'pending');
    assert.match(audit.evidence[0] ?? '', /^not checked: .*not running.*run fleet doctor acme again once it does$/);
  });

  test('an agent refused for its identity is a failed item, not a pending one', async () => {
    const { doctor } = bed({ audit: { checkpoint: impostor, verifyAudit: impostor } });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(report, 'audit-logging'), 'fail');
    assert.match(itemOf(report, 'audit-logging').evidence[0] ?? '', /certificate names another client/);
  });

  test('a store that does not answer leaves its item pending (any check that throws so)', async () => {
    const grants = { grantScopes: async () => Promise.reject(new FleetError('unavailable', 'Vault sealed')) };
    const { doctor } = bed({ grants });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER });
    assert.equal(statusOf(report, 'oauth-scopes'), 'pending');
    assert.match(itemOf(report, 'oauth-scopes').evidence[0] ?? '', /^not checked: the stored grant did not answer \(Vault sealed\)/);
  });

  test('a sandbox round whose agent does not answer is pending, not failed', async () => {
    const { doctor, log } = bed({ isolation: inspectorAt(`${EMULATOR}/gmail/v1`), reach: stopped });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER, sandboxEmulator: EMULATOR });
    assert.equal(statusOf(report, 'sandbox-round'), 'pending');
    assert.match(itemOf(report, 'sandbox-round').evidence[0] ?? '', /^not checked: the agent did not answer/);
    assert.equal(log.some((entry) => entry.action === 'onboarding-sandbox'), false, 'nothing recorded');
  });

  test('a sandbox round on a runtime that cannot report the mail endpoint is pending as not checkable here', async () => {
    const { doctor } = bed();
    const report = await doctor.check({ clientId: 'acme', member: MEMBER, sandboxEmulator: EMULATOR });
    assert.equal(statusOf(report, 'sandbox-round'), 'pending');
    assert.match(itemOf(report, 'sandbox-round').evidence[0] ?? '', /^not checkable here/);
  });

  test('a runtime that does not answer during a sandbox round still gives a report', async () => {
    const isolation = { inspectIsolation: async () => Promise.reject(new FleetError('unavailable', 'Docker does not answer')) };
    const { doctor } = bed({ isolation });
    const report = await doctor.check({ clientId: 'acme', member: MEMBER, sandboxEmulator: EMULATOR });
    assert.equal(statusOf(report, 'sandbox-round'), 'pending');
    assert.equal(statusOf(report, 'isolated-instance'), 'pending');
  });

  test('a malformed emulator is refused before the checklist runs', async () => {
    let asked = false;
    const isolation = {
      inspectIsolation: async () => {
        asked = true;
        return null;
      },
    };
    const { doctor } = bed({ isolation });
    await assert.rejects(
      doctor.check({ clientId: 'acme', member: MEMBER, sandboxEmulator: 'not a url' }),
      (error: unknown) => error instanceof FleetError && error.code === 'invalid_input',
    );
    assert.equal(asked, false, 'the runtime was not asked about an agent the run is refused for');
  });
});

describe('an attestation whose re-run fails', () => {
  test('says the attestation was recorded, so it does not read as refused', async () => {
    const save = async () => Promise.reject(new FleetError('unavailable', 'the registry does not answer'));
    const { doctor, log } = bed({ save });
    await assert.rejects(
      doctor.attest({ clientId: 'acme', item: 'dpa', note: 'signed, DMS 4411', notApplicable: false, member: 'bob' }),
      (error: unknown) =>
        error instanceof FleetError &&
        error.code === 'unavailable' &&
        /^dpa attested and recorded \(ops log #1\), but the checklist could not be run again: the registry does not answer/.test(error.message),
    );
    assert.equal(log.filter((entry) => entry.action === 'onboarding-attest').length, 1);
  });
});
