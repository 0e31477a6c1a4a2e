import type { ReconcileReport } from '../../services/reconcile-fleet.ts';
import type { ProvisionResult } from '../../services/provision-client.ts';
import type { AgentReportOutcome } from '../../services/agent-report.ts';
import type { ClientDescription } from '../../services/describe-client.ts';
import type { ClientSummary } from '../fleet-api-client.ts';

/**
 * `fleet provision`: where the new agent answers, or that there was nothing to do. The control API speaks
 * TLS 1.3 with the agent's own certificate (named `<id>.agents.fleet.internal`, from the fleet CA).
 */
export function formatProvisionResult(result: ProvisionResult, fleetCaCertificate: string): string {
  if (result.outcome === 'already-active') return `${result.clientId} is already active: nothing to do.`;
  const total = result.steps.reduce((sum, step) => sum + step.durationMs, 0);
  return [
    `${result.clientId} is active on ${result.runtime} (${(total / 1000).toFixed(2)} s).`,
    `  health:   ${healthCommand(result.clientId, result.controlAddress, fleetCaCertificate)}`,
    `  metrics:  curl -s http://${result.metricsAddress}/metrics`,
    `  status:   make status CLIENT=${result.clientId}   (or: npm run fleet -- status ${result.clientId})`,
  ].join('\n');
}

function healthCommand(clientId: string, controlAddress: string, fleetCaCertificate: string): string {
  const separator = controlAddress.lastIndexOf(':');
  const host = controlAddress.slice(0, separator);
  const port = controlAddress.slice(separator + 1);
  const name = `${clientId}.agents.fleet.internal`;
  return `curl -s --cacert ${fleetCaCertificate} --resolve ${name}:${port}:${host} https://${name}:${port}/healthz`;
}

/** `fleet status`: the registry's view beside the runtime's. */
export function formatClientStatus(status: ClientDescription): string {
  const { client, agent } = status;
  const endpoints = agent?.endpoints
    ? ` control ${agent.endpoints.control} metrics ${agent.endpoints.metrics}`
    : '';
  return [
    `client:   ${client.id}`,
    `status:   ${client.status}${client.statusReason ? ` (${client.statusReason})` : ''}`,
    `runtime:  ${status.runtime}`,
    `agent:    ${agent ? `${agent.status}${endpoints}` : 'no container'}`,
    `subnet:   ${client.subnet ?? '-'}`,
    `target:   ${status.scrapeTarget ?? '-'}`,
    ...(status.model ? [`model:    ${status.model.id}${status.model.finding === null ? '' : ` (${status.model.finding})`}`] : []),
    ...(status.onboarding ? [`onboarding: ${onboardingLine(client.id, status.onboarding)}`] : []),
    ...(status.agentReport ? agentReportLines(status.agentReport) : []),
  ].join('\n');
}

/** What the agent says of itself: the facts the runbooks send on-call to. */
function agentReportLines(outcome: AgentReportOutcome): string[] {
  if ('unavailable' in outcome) return [`agent report: none (${outcome.unavailable})`];
  const { report } = outcome;
  const pause = report.paused === null ? 'no' : `${report.paused} since ${report.pausedSince ?? 'an unknown time'}`;
  const push = !report.push.enabled ? 'off' : report.push.expiresAt === null ? 'ON, BUT NO LIVE WATCH (mail found by polling only)' : `watch until ${report.push.expiresAt}`;
  return [
    `agent report: ${report.lifecycle}${report.killed ? ', KILLED' : ''}${report.dryRun ? ', dry run' : ''}`,
    `  sending paused: ${pause}`,
    `  mailbox:   ${report.connection}, last sync ${report.lastSync ?? 'never since start'}, push ${push}`,
    `  vault:     ${report.vault}`,
    `  waiting:   ${report.pendingApprovals} approval(s); outbox ${report.outbox.pending} pending, ${report.outbox.held} held, ${report.outbox.sent} sent`,
  ];
}

function onboardingLine(clientId: string, onboarding: NonNullable<ClientDescription['onboarding']>): string {
  if (onboarding.checkedAt === null) return `not checked yet (fleet doctor ${clientId})`;
  const open =
    onboarding.openRequired === 0 ? 'checklist complete' : `${onboarding.openRequired} required item(s) open`;
  return `${open} at ${onboarding.checkedAt} (fleet doctor ${clientId})`;
}

/** `fleet list`: one line per client. */
export function formatClientList(
  clients: readonly Pick<ClientSummary, 'id' | 'status' | 'subnet'>[],
): string {
  if (clients.length === 0) return 'no clients yet: make provision CLIENT=<id>';
  return clients.map((c) => `${c.id.padEnd(34)} ${c.status.padEnd(15)} ${c.subnet ?? '-'}`).join('\n');
}

export function formatDeprovisioned(result: { clientId: string; purged: boolean }): string {
  return result.purged
    ? `${result.clientId} removed, data purged.`
    : `${result.clientId} removed; its volume is kept (--purge deletes it).`;
}

/** `fleet reconcile`: what was done, what was left alone, or that all is in sync. */
export function formatReconcileReport(report: ReconcileReport): string {
  return [
    ...report.actions.map((a) => `${a.kind.padEnd(15)} ${a.clientId}: ${a.detail}`),
    ...report.drift.map((d) => `drift           ${d}`),
    report.actions.length + report.drift.length === 0 ? 'in sync: nothing to do' : '',
  ]
    .filter(Boolean)
    .join('\n');
}
