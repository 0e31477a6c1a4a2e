import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { evaluateIsolation } from '../../domain/isolation-policy.ts';
import { checkGrantScopes } from '../../domain/onboarding-config-checks.ts';
import type { ItemOutcome } from '../../domain/onboarding-checklist.ts';
import type { AgentIsolationInspector } from '../../ports/agent-isolation.ts';
import type { AlertingProbe, GrantScopeReader } from '../../ports/onboarding-probes.ts';
import type { CredentialStore } from '../../ports/portal-store.ts';
import type { AgentProxyService } from '../agent-proxy.ts';
import { outcomeOfCheckError } from './check-failure.ts';
import type { PipelineVerdict } from './monitoring-pipeline.ts';

/** The alerts of the spec's anomalies (and a stopped agent or a broken audit chain) that must be loaded. */
export const REQUIRED_ALERTS = [
  'MassSending',
  'RateLimitHit',
  'NewRecipientDomainsBurst',
  'OffHoursActivity',
  'OldDataAccess',
  'AuthFailuresBurst',
  'AgentDown',
  'AuditChainBroken',
] as const;

const failure = (error: unknown): string => (isFleetError(error) ? error.message : (error as Error).message);

/** The running agent's hardening, read back from the runtime; pending where the runtime cannot be asked. */
export async function checkIsolation(
  clientId: ClientId,
  inspector: AgentIsolationInspector | null,
  internalNetwork: boolean,
): Promise<ItemOutcome> {
  if (inspector === null)
    return {
      status: 'pending',
      evidence: [
        'this runtime cannot report the workload’s hardening back (Docker only): check the pod security context by hand',
      ],
    };
  const facts = await inspector.inspectIsolation(clientId);
  if (facts === null)
    return {
      status: 'fail',
      evidence: [`no workload ${resourceNames(clientId).container}: provision the client`],
    };
  const findings = evaluateIsolation(facts, { volume: resourceNames(clientId).volume, internalNetwork });
  const failed = findings.filter((finding) => !finding.ok);
  return {
    status: failed.length === 0 ? 'pass' : 'fail',
    evidence: (failed.length === 0 ? findings : failed).map((finding) => finding.text),
  };
}

/** The stored mailbox grant's scopes against the applied settings; pending until a mailbox is connected. */
export async function checkScopes(
  clientId: ClientId,
  config: ClientConfig,
  grants: GrantScopeReader,
): Promise<ItemOutcome> {
  const grant = await grants.grantScopes(clientId, config.provider);
  if (grant === null)
    return {
      status: 'pending',
      evidence: [
        `no ${config.provider} grant stored yet: fleet connect ${clientId} --provider ${config.provider}`,
      ],
    };
  return checkGrantScopes(config, grant.scopes);
}

/** The agent records: its chain head is checkpointed now, then the whole chain verified against it. */
export async function checkAudit(
  clientId: ClientId,
  agents: Pick<AgentProxyService, 'checkpoint' | 'verifyAudit'>,
): Promise<ItemOutcome> {
  let saved: string;
  let verified: { verification: unknown; checkpoint: unknown };
  try {
    saved = await agents.checkpoint(clientId);
    verified = await agents.verifyAudit(clientId);
  } catch (error) {
    return outcomeOfCheckError(error, 'the agent’s audit log', clientId);
  }
  const verification = verified.verification as {
    ok?: boolean;
    count?: number;
    break?: { kind: string; seq: number };
  };
  const checkpoint = verified.checkpoint as { seq: number; at: string } | null;
  const evidence: string[] = [];
  if (verification.ok !== true)
    evidence.push(
      `chain broken${verification.break ? `: ${verification.break.kind} at seq ${verification.break.seq}` : ''}`,
    );
  if (saved === 'regressed')
    evidence.push(
      'the chain does not extend the checkpoint held outside it: the log was truncated or rewritten (after a restore from an older backup, `fleet audit reanchor <client> --reason …` accepts the restored chain)',
    );
  if ((verification.count ?? 0) < 1) evidence.push('no audit record yet');
  if (checkpoint === null) evidence.push('no checkpoint held outside the agent');
  if (evidence.length > 0) return { status: 'fail', evidence };
  return {
    status: 'pass',
    evidence: [
      `${verification.count} record(s), chain verified against the checkpoint at seq ${checkpoint?.seq} (${checkpoint?.at})`,
    ],
  };
}

/** A client admin (of the applied config) holding a confirmed portal credential: the portal gives them the kill switch. */
export async function checkClientAdmin(
  clientId: ClientId,
  config: ClientConfig,
  credentials: Pick<CredentialStore, 'listCredentials'> | null,
): Promise<ItemOutcome> {
  if (config.admins.length === 0)
    return { status: 'fail', evidence: ['the config names no client admin (admins:)'] };
  if (credentials === null)
    return {
      status: 'pending',
      evidence: ['this orchestrator runs no client portal store: enrolment unknown'],
    };
  const enrolled: string[] = [];
  for (const email of config.admins) {
    const confirmed = (await credentials.listCredentials({ clientId, email })).filter(
      (credential) => credential.confirmed,
    );
    if (confirmed.length > 0)
      enrolled.push(`${email} (${[...new Set(confirmed.map((credential) => credential.kind))].join(', ')})`);
  }
  if (enrolled.length === 0)
    return {
      status: 'pending',
      evidence: [`no admin enrolled in the portal yet: fleet portal invite ${clientId} --email <admin>`],
    };
  return {
    status: 'pass',
    evidence: [
      `enrolled in the portal: ${enrolled.join('; ')}; every signed-in admin has the kill switch (Stop the agent)`,
    ],
  };
}

/**
 * Prometheus has the client's target up and the anomaly rules loaded, and (with a pipeline check) alerts
 * get from Prometheus to Alertmanager at all: a loaded rule whose alerts reach nobody alerts nobody.
 * Pending without a Prometheus to ask.
 */
export async function checkAlerting(
  clientId: ClientId,
  probe: AlertingProbe | null,
  pipeline: (() => Promise<PipelineVerdict>) | null = null,
): Promise<ItemOutcome> {
  if (probe === null)
    return {
      status: 'pending',
      evidence: ['no Prometheus configured (FLEET_PROMETHEUS_URL): whether alerts are live is unknown'],
    };
  let state;
  try {
    state = await probe.alertingOf(clientId);
  } catch (error) {
    return { status: 'fail', evidence: [failure(error)] };
  }
  const missing = REQUIRED_ALERTS.filter((name) => !state.loadedAlerts.includes(name));
  const evidence = [
    state.target === null
      ? `Prometheus at ${probe.url} has no target for ${clientId}`
      : `target ${state.target.health}${state.target.lastError ? ` (${state.target.lastError})` : ''}`,
    missing.length === 0
      ? `${REQUIRED_ALERTS.length} anomaly alert rules loaded`
      : `alert rules not loaded: ${missing.join(', ')}`,
  ];
  let delivered = true;
  if (pipeline !== null) {
    try {
      const verdict = await pipeline();
      delivered = verdict.ok;
      evidence.push(...(verdict.ok ? verdict.evidence : verdict.problems));
    } catch (error) {
      delivered = false;
      evidence.push(`the alerting pipeline could not be checked: ${failure(error)}`);
    }
  }
  return {
    status: state.target?.health === 'up' && missing.length === 0 && delivered ? 'pass' : 'fail',
    evidence,
  };
}
