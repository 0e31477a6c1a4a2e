import { Writable } from 'node:stream';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { answerWithin } from '@agent-fleet/kernel/answer-within';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  checkDraftReviewSend,
  checkRateLimits,
  departuresFromSafeDefaults,
  withDepartures,
} from '../../domain/onboarding-config-checks.ts';
import {
  HUMAN_ITEMS,
  ONBOARDING_ITEMS,
  onboardingReport,
  parseHumanItem,
  type ItemOutcome,
  type OnboardingItemId,
  type OnboardingReport,
} from '../../domain/onboarding-checklist.ts';
import type { AgentControl } from '../../ports/agent-control.ts';
import type { AgentIsolationInspector } from '../../ports/agent-isolation.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AgentVolumes } from '../../ports/container-runtime.ts';
import type { AlertingProbe, GrantScopeReader, OnboardingCheckStore } from '../../ports/onboarding-probes.ts';
import type { CredentialStore } from '../../ports/portal-store.ts';
import type { Registry } from '../../ports/registry.ts';
import type { AgentProxyService } from '../agent-proxy.ts';
import type { SupportAccessService } from '../support-access.ts';
import {
  attestedOutcome,
  foldAttestations,
  foldRailConfirmations,
  lastSandboxPass,
  ONBOARDING_ACTIONS,
} from './doctor-records.ts';
import { checkEncryptionAtRest } from './encryption-check.ts';
import type { PipelineVerdict } from './monitoring-pipeline.ts';
import type { MonitoringWatch } from './monitoring-watch.ts';
import { checkAlerting, checkAudit, checkClientAdmin, checkIsolation, checkScopes } from './live-checks.ts';
import { outcomeOfCheckError } from './check-failure.ts';
import { sandboxEvidence, sandboxOrigin, verifySandboxRound } from './sandbox-round.ts';

export interface DoctorDependencies {
  registry: Registry;
  volumes: Pick<AgentVolumes, 'snapshot'>;
  agentImage: string;
  /** Null where the runtime cannot report a workload's hardening (Kubernetes). */
  isolation: AgentIsolationInspector | null;
  /** The fleet keeps agents on internal networks (egress through the proxy). */
  internalNetwork: boolean;
  grants: GrantScopeReader;
  agents: Pick<AgentProxyService, 'checkpoint' | 'verifyAudit' | 'exportAudit' | 'reach'>;
  control: Pick<AgentControl, 'request'>;
  support: Pick<SupportAccessService, 'list' | 'authorize'>;
  /** The portal's admin credentials; null when this orchestrator has no portal store. */
  portalCredentials: Pick<CredentialStore, 'listCredentials'> | null;
  /** Null when no Prometheus is configured. */
  alerting: AlertingProbe | null;
  /** The outside check of Prometheus → Alertmanager (the Watchdog); null when no Prometheus is configured. */
  monitoring?: Pick<MonitoringWatch, 'check' | 'latest' | 'start'> | null;
  store: OnboardingCheckStore;
  clock: Clock;
  /**
   * How long one live check may take, ms (default DOCTOR_CHECK_TIMEOUT_MS): one still unanswered then is
   * reported pending as not checked, so an agent or a service that hangs never holds the whole run.
   */
  checkTimeoutMs?: number;
}

/** Default bound of one live check: above the agent's longest answer (a whole-chain verification, 120 s). */
export const DOCTOR_CHECK_TIMEOUT_MS = 150_000;

export interface DoctorRun {
  clientId: unknown;
  /** The signed-in member running it (the ops log's actor, and whose support grant may add markers). */
  member: string;
  /** Plaintext canaries to look for in the volume besides the client's own addresses. */
  markers?: readonly string[];
  /** Check and record a sandbox round against this mail emulator. */
  sandboxEmulator?: string | undefined;
}

/** What `fleet status` and the gauge show: the last run's open items, or every item when never checked. */
export interface OnboardingSummary {
  openRequired: number;
  openTotal: number;
  checkedAt: string | null;
}

const SUBJECT_WINDOW_MS = 14 * 86_400_000;
const SUBJECT_BYTES = 4 * 1024 * 1024;

/**
 * `fleet doctor`: the spec's onboarding checklist against the live system. Machine items are checked now
 * (runtime, Vault, the agent, the portal store, Prometheus, the volume); human items come from the
 * members' attestations in the ops log. The last run of each client is kept for status and the gauge.
 */
export class OnboardingDoctor {
  private readonly deps: DoctorDependencies;

  constructor(deps: DoctorDependencies) {
    this.deps = deps;
  }

  async check(run: DoctorRun): Promise<OnboardingReport> {
    const clientId = parseClientId(run.clientId);
    // A malformed emulator URL is the caller's mistake: refused before anything is asked or recorded.
    const emulator = run.sandboxEmulator ?? null;
    if (emulator !== null) sandboxOrigin(emulator);
    const record = await this.deps.registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    const config = parseClientConfigYaml(record.configYaml, `the config of ${clientId}`);
    const entries = await this.deps.registry.listOpsLog({ clientId });
    const { subjects, note } = await this.recentSubjects(clientId, run.member);
    const bounded = (what: string, check: Promise<ItemOutcome>) =>
      this.bounded(clientId, what, settle(check, what, clientId));
    const [isolation, scopes, audit, admin, alerting, encryption, sandboxRound] = await Promise.all([
      bounded('the agent’s hardening', checkIsolation(clientId, this.deps.isolation, this.deps.internalNetwork)),
      bounded('the stored grant', checkScopes(clientId, config, this.deps.grants)),
      bounded('the agent’s audit log', checkAudit(clientId, this.deps.agents)),
      bounded('the portal enrolment', checkClientAdmin(clientId, config, this.deps.portalCredentials)),
      bounded('Prometheus', checkAlerting(clientId, this.deps.alerting, this.pipelineCheck())),
      bounded(
        'the volume',
        checkEncryptionAtRest({
          clientId,
          config,
          volumes: this.deps.volumes,
          image: this.deps.agentImage,
          subjects,
          extraMarkers: run.markers ?? [],
          subjectsNote: note,
        }),
      ),
      emulator === null
        ? this.recordedSandbox(clientId, entries)
        : bounded('the sandbox round', verifySandboxRound(this.deps, clientId, emulator, run.member)),
    ]);
    const attestations = foldAttestations(entries);
    const confirmations = foldRailConfirmations(entries);
    const now = this.deps.clock.now();
    const departures = departuresFromSafeDefaults(config, now);
    const outcomes: Partial<Record<OnboardingItemId, ItemOutcome>> = {
      'isolated-instance': isolation,
      'oauth-scopes': withDepartures('oauth-scopes', scopes, departures, confirmations),
      'draft-review-send': withDepartures(
        'draft-review-send',
        checkDraftReviewSend(config, record, now, confirmations),
        departures,
        confirmations,
      ),
      'rate-limits': withDepartures('rate-limits', checkRateLimits(config), departures, confirmations),
      'audit-logging': audit,
      'client-admin': admin,
      'sandbox-round': sandboxRound,
      'encryption-at-rest': encryption,
      'anomaly-alerts': alerting,
    };
    for (const item of HUMAN_ITEMS)
      outcomes[item] = attestedOutcome(clientId, item, attestations.get(item), entries);
    const report = onboardingReport(clientId, this.deps.clock.now(), run.member, outcomes);
    await this.deps.store.save(report);
    return report;
  }

  /**
   * A member's attestation of a human item (with a note saying what was done, e.g. where the signed DPA
   * is filed), in the ops log; then the checklist is run again with it.
   */
  async attest(input: {
    clientId: unknown;
    item: unknown;
    note: string;
    notApplicable: boolean;
    member: string;
  }): Promise<OnboardingReport> {
    const clientId = parseClientId(input.clientId);
    const item = parseHumanItem(input.item);
    const note = input.note.trim();
    if (note === '' || note.length > 1000)
      throw new FleetError(
        'invalid_input',
        'an attestation needs a note of 1-1000 characters (--note "…"): what was done, where it is recorded',
      );
    if (input.notApplicable && item !== 'dpa')
      throw new FleetError('invalid_input', 'only dpa can be attested as not applicable');
    if (!(await this.deps.registry.getClient(clientId)))
      throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    const recorded = await this.deps.registry.appendOpsLog({
      actor: input.member,
      action: ONBOARDING_ACTIONS.attest,
      clientId,
      reason: note,
      outcome: 'success',
      details: { item, notApplicable: input.notApplicable },
    });
    // The whole checklist again: carrying the last run's machine items into a report stamped now would
    // present old results as checked now, by whoever attested.
    try {
      return await this.check({ clientId, member: input.member });
    } catch (error) {
      // The attestation stands whatever the run does: an error alone would read as a refused one.
      const message = error instanceof Error ? error.message : String(error);
      throw new FleetError(
        isFleetError(error) ? error.code : 'internal',
        `${item} attested and recorded (ops log #${recorded.seq}), but the checklist could not be run again: ${message}; once that is put right, fleet doctor ${clientId} shows it`,
        { cause: error, retryable: isFleetError(error) && error.retryable },
      );
    }
  }

  /**
   * The alerting pipeline as the orchestrator last saw it from outside (for `fleet status` and the
   * service's health); null when no Prometheus is configured or before the first check.
   */
  monitoringHealth(): PipelineVerdict | null {
    return this.deps.monitoring?.latest() ?? null;
  }

  /**
   * Starts the outside check of the alerting pipeline every `intervalMs` (default a minute): a broken
   * pipeline is ops-logged and logged as an error. A no-op without a configured Prometheus. Returns the stop.
   */
  watchMonitoring(intervalMs?: number): () => void {
    return this.deps.monitoring?.start(intervalMs) ?? (() => undefined);
  }

  private get timeoutMs(): number {
    return this.deps.checkTimeoutMs ?? DOCTOR_CHECK_TIMEOUT_MS;
  }

  /** A live check's outcome, or pending when it did not answer in time: not checked is never passed. */
  private async bounded(clientId: ClientId, what: string, check: Promise<ItemOutcome>): Promise<ItemOutcome> {
    const seconds = Math.ceil(this.timeoutMs / 1000);
    try {
      return await answerWithin(check, this.timeoutMs, `${what} did not answer within ${seconds} s`);
    } catch (error) {
      if (!isFleetError(error) || error.code !== 'timeout') throw error;
      return {
        status: 'pending',
        evidence: [`not checked: ${error.message}; run fleet doctor ${clientId} again once it answers`],
      };
    }
  }

  private pipelineCheck(): (() => Promise<PipelineVerdict>) | null {
    const monitoring = this.deps.monitoring ?? null;
    return monitoring === null ? null : () => monitoring.check();
  }

  async summaryOf(rawClientId: unknown): Promise<OnboardingSummary> {
    const report = await this.deps.store.latestOf(parseClientId(rawClientId));
    return report === null
      ? { openRequired: ONBOARDING_ITEMS.length, openTotal: ONBOARDING_ITEMS.length, checkedAt: null }
      : { openRequired: report.open.required, openTotal: report.open.total, checkedAt: report.checkedAt };
  }

  /** Per active client: required items open (all, when never checked) and when its onboarding started. */
  async gaugeSamples(): Promise<{ clientId: string; openRequired: number; onboardingStartedAt: string }[]> {
    const reports = new Map((await this.deps.store.latest()).map((report) => [report.clientId, report]));
    return (await this.deps.registry.listClients())
      .filter((client) => client.status === 'active')
      .map((client) => ({
        clientId: client.id,
        openRequired: reports.get(client.id)?.open.required ?? ONBOARDING_ITEMS.length,
        onboardingStartedAt: client.onboardingStartedAt,
      }));
  }

  private async recordedSandbox(
    clientId: ClientId,
    entries: Awaited<ReturnType<Registry['listOpsLog']>>,
  ): Promise<ItemOutcome> {
    const pass = lastSandboxPass(entries);
    if (pass !== undefined) return { status: 'pass', evidence: [sandboxEvidence(pass)] };
    return {
      status: 'pending',
      evidence: [
        `no sandbox round yet: run the agent in dry run against the mail emulator, then fleet doctor ${clientId} --sandbox --emulator <url>`,
      ],
    };
  }

  /** Subjects of the last two weeks' mail, only under the member's active support grant (a logged use of it). */
  private async recentSubjects(
    clientId: ClientId,
    member: string,
  ): Promise<{ subjects: string[]; note: string }> {
    const grant = (await this.deps.support.list(clientId)).some(
      (candidate) => candidate.status === 'active' && candidate.member === member,
    );
    if (!grant) return { subjects: [], note: 'recent subjects not among them (no support grant of yours)' };
    await this.deps.support.authorize(
      clientId,
      member,
      'onboarding doctor: recent subjects as encryption markers',
    );
    const chunks: Buffer[] = [];
    let size = 0;
    // Enough is read once the cap is reached: the sink then refuses more, which ends the export.
    const enough = new FleetError('conflict', 'enough of the audit export read');
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (size >= SUBJECT_BYTES) {
          callback(enough);
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
        callback();
      },
    });
    // Its errors (enough read, or destroyed on a timeout) are read from the export's outcome.
    sink.on('error', () => undefined);
    const since = new Date(this.deps.clock.now().getTime() - SUBJECT_WINDOW_MS).toISOString();
    const seconds = Math.ceil(this.timeoutMs / 1000);
    try {
      await answerWithin(
        this.deps.agents.exportAudit(clientId, { format: 'jsonl', since }, sink),
        this.timeoutMs,
        `the audit export did not finish within ${seconds} s`,
      );
    } catch (error) {
      if (error !== enough && sink.errored !== enough) {
        sink.destroy();
        return {
          subjects: [],
          note: `recent subjects not among them (${isFleetError(error) ? error.message : 'the audit export failed'})`,
        };
      }
    }
    const subjects = new Set<string>();
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
      const subject = (safeJson(line) as { parameters?: { subject?: unknown } } | null)?.parameters?.subject;
      if (typeof subject === 'string' && subject.trim().length >= 8) subjects.add(subject.trim());
      if (subjects.size >= 50) break;
    }
    return {
      subjects: [...subjects],
      note: `${subjects.size} recent subject(s) among them (read under your support grant)`,
    };
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * A check that threw is an item with the reason, never a failed report: pending when what it asked did not
 * answer (check-failure.ts), failed otherwise.
 */
async function settle(check: Promise<ItemOutcome>, what: string, clientId: ClientId): Promise<ItemOutcome> {
  try {
    return await check;
  } catch (error) {
    return outcomeOfCheckError(error, what, clientId);
  }
}
