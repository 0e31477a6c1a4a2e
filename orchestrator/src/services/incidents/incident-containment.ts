import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { ContainmentStepName, IncidentContainmentStep, IncidentRecord } from '../../ports/incident-store.ts';
import type { OAuthGrantRevoker } from '../../ports/oauth-grant-revoker.ts';
import type { Registry } from '../../ports/registry.ts';
import type { KillRequest, KillResult } from '../kill-client.ts';
import type { RotationResult } from '../rotate-credentials.ts';
import { INCIDENT_ACTIONS, type IncidentService, type IncidentView } from './incident-service.ts';
import { failureDetail } from './failure-detail.ts';
import { recordContainment } from './incident-transitions.ts';

/**
 * The order the steps run in for each client: rotation needs the agent running, the grant revocation
 * needs nothing of it, and the kill stops it last. A failed step never stops the ones after it.
 */
export const CONTAINMENT_ORDER: readonly ContainmentStepName[] = ['rotate', 'revoke-oauth', 'kill'];

/**
 * The reason each client's kill and rotation record when none is given: the summary of an incident of that
 * client alone; for one of several clients, not the summary written for them all, which may name the others
 * (it would stay in this client's status, kill flag and ops-log entries, and reach its data export).
 */
function defaultReason(incident: Pick<IncidentRecord, 'clients' | 'severity' | 'summary'>): string {
  return incident.clients.length > 1 ? `containment of a ${incident.severity}-severity incident` : incident.summary;
}

export interface ContainmentDependencies {
  incidents: IncidentService;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  kill: { kill(request: KillRequest): Promise<KillResult> };
  rotate: { rotate(request: { clientId: unknown; reason: string; actor: string }): Promise<RotationResult> };
  oauth: OAuthGrantRevoker;
}

export interface ContainRequest {
  id: unknown;
  steps: readonly ContainmentStepName[];
  /** One of the incident's clients; default: every client it names. */
  clientId?: string | undefined;
  reason?: string | undefined;
  actor: string;
}

export interface ContainResult extends IncidentView {
  steps: IncidentContainmentStep[];
}

/** `fleet incident contain`: the chosen containment steps through the fleet's own services, each recorded. */
export class IncidentContainmentService {
  private readonly deps: ContainmentDependencies;

  constructor(deps: ContainmentDependencies) {
    this.deps = deps;
  }

  async contain(request: ContainRequest): Promise<ContainResult> {
    const incident = await this.deps.incidents.require(request.id);
    if (incident.status === 'closed') throw new FleetError('conflict', `${incident.id} is closed: it takes no more containment`);
    const chosen = CONTAINMENT_ORDER.filter((step) => request.steps.includes(step));
    if (chosen.length === 0) throw new FleetError('invalid_input', 'choose at least one containment step: --kill, --rotate, --revoke-oauth');
    const targets = this.targets(incident.id, incident.clients, request.clientId);
    const reason = `${incident.id}: ${(request.reason?.trim() || defaultReason(incident)).slice(0, 480)}`;
    const steps: IncidentContainmentStep[] = [];
    for (const clientId of targets) {
      for (const step of chosen) {
        const outcome = await this.run(step, clientId, reason, request.actor);
        const recorded: IncidentContainmentStep = { clientId, step, at: this.deps.clock.now().toISOString(), by: request.actor, ...outcome };
        steps.push(recorded);
        await this.deps.incidents.log(incident, INCIDENT_ACTIONS.contain, request.actor, reason, { step, detail: outcome.detail }, clientId, outcome.outcome);
      }
    }
    const updated = await this.deps.incidents.change(incident.id, (current, now) => recordContainment(current, steps, now));
    return { ...(await this.deps.incidents.view(updated)), steps };
  }

  private targets(incidentId: string, clients: readonly string[], requested: string | undefined): ClientId[] {
    if (clients.length === 0) throw new FleetError('invalid_input', `${incidentId} names no client: there is nothing to contain through the fleet`);
    if (requested === undefined) return clients.map((client) => parseClientId(client));
    const clientId = parseClientId(requested);
    if (!clients.includes(clientId)) throw new FleetError('invalid_input', `${incidentId} does not concern ${clientId}`);
    return [clientId];
  }

  private async run(step: ContainmentStepName, clientId: ClientId, reason: string, actor: string): Promise<Pick<IncidentContainmentStep, 'outcome' | 'detail'>> {
    try {
      return { outcome: 'success', detail: await this.step(step, clientId, reason, actor) };
    } catch (error) {
      this.deps.logger.error('containment step failed', { client: clientId, step, error });
      return { outcome: 'failed', detail: failureDetail((error as Error).message) };
    }
  }

  private async step(step: ContainmentStepName, clientId: ClientId, reason: string, actor: string): Promise<string> {
    if (step === 'kill') {
      const killed = await this.deps.kill.kill({ clientId, reason, actor });
      if (!killed.containerStopped) throw new FleetError('unavailable', `the kill of ${clientId} did not confirm the container stopped`);
      return `killed: ${killed.revokedTokens} agent token(s) revoked, container stopped${killed.alreadyKilled ? ' (it was already killed)' : ''}`;
    }
    if (step === 'rotate') {
      const rotated = await this.deps.rotate.rotate({ clientId, reason, actor });
      return `rotated: ${rotated.revokedTokens} agent token(s) revoked, data key version ${rotated.dataKeyVersion}, new control token`;
    }
    const record = await this.deps.registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    const revoked = await this.deps.oauth.revoke(clientId, record.provider);
    const crm = revoked.crmGrantDeleted ? '; the CRM grant deleted from the client\'s secrets' : '';
    if (!revoked.hadGrant) return `no ${record.provider} grant was stored: nothing to revoke${crm}`;
    const where = revoked.revokedAtProvider ? `revoked at ${record.provider === 'gmail' ? 'Google' : 'Microsoft'} and ` : '';
    return `${record.provider} grant ${where}deleted from the client's secrets${crm}${revoked.followUp ? `; ${revoked.followUp}` : ''}`;
  }
}
