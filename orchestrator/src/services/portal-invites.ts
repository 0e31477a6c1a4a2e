import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Registry } from '../ports/registry.ts';
import type { AdminNoticeOutcome, AgentViewsService } from './agent-views.ts';

export type InviteResult =
  | { delivery: 'mailed'; clientId: string; email: string; expiresAt: string; outcome: 'sent' | 'queued' }
  | { delivery: 'shown'; clientId: string; email: string; expiresAt: string; url: string };

export interface PortalInviteDependencies {
  registry: Pick<Registry, 'getClient' | 'appendOpsLog'>;
  views: Pick<AgentViewsService, 'notice'>;
  /** Issues a single-use 24 h enrolment link (the portal). */
  issue(clientId: string, email: string): Promise<{ url: string; expiresAt: Date }>;
}

/** A stable, bounded name of what went wrong, for the ops log (never the message: it may quote the link). */
function errorCode(error: unknown): string {
  return isFleetError(error) ? error.code : 'internal';
}

/**
 * `fleet portal invite`: an enrolment link for one of the client's admins. By default it is mailed
 * through the client's own mailbox (the agent's admin-notice path), so nobody at the agency sees it; with
 * `print` (a mailbox not connected yet) it is shown to the operator, and the ops log says so.
 */
export class PortalInviteService {
  private readonly deps: PortalInviteDependencies;

  constructor(deps: PortalInviteDependencies) {
    this.deps = deps;
  }

  async invite(input: { clientId: unknown; email: string; print: boolean; actor: string }): Promise<InviteResult> {
    const clientId = parseClientId(input.clientId);
    const record = await this.deps.registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    const email = input.email.trim().toLowerCase();
    const admins = parseClientConfigYaml(record.configYaml, `the config of ${clientId}`).admins.map((admin) => admin.toLowerCase());
    if (!admins.includes(email)) throw new FleetError('invalid_input', `${input.email} is not an admin in the config of ${clientId}`);
    const issued = await this.deps.issue(clientId, email);
    const expiresAt = issued.expiresAt.toISOString();
    if (input.print) {
      await this.deps.registry.appendOpsLog({
        actor: input.actor,
        action: 'portal-invite',
        clientId,
        reason: `enrollment link shown to ${input.actor}`,
        outcome: 'success',
        details: { admin: email, delivery: 'shown', expiresAt },
      });
      return { delivery: 'shown', clientId, email, expiresAt, url: issued.url };
    }
    let outcome: AdminNoticeOutcome;
    try {
      outcome = await this.deps.views.notice(clientId, { kind: 'enrolment', email, url: issued.url, expiresAt });
    } catch (error) {
      // The agent may have mailed the link before its answer was lost (a timeout): a live link went out,
      // so the ops log says so, as it does for every other invitation.
      await this.deps.registry.appendOpsLog({
        actor: input.actor,
        action: 'portal-invite',
        clientId,
        reason: `enrollment link for ${email} issued; the agent's answer to mailing it failed, so it may or may not have been mailed`,
        outcome: 'failure',
        details: { admin: email, delivery: 'mailed', outcome: 'unknown', expiresAt, error: errorCode(error) },
      });
      throw error;
    }
    await this.deps.registry.appendOpsLog({
      actor: input.actor,
      action: 'portal-invite',
      clientId,
      reason: `enrollment link mailed to ${email} through the client's mailbox`,
      outcome: outcome === 'skipped' || outcome === 'held' ? 'failure' : 'success',
      details: { admin: email, delivery: 'mailed', outcome, expiresAt },
    });
    if (outcome === 'skipped') {
      throw new FleetError(
        'conflict',
        `the agent of ${clientId} cannot mail yet (dry run, killed, or mail.send not granted): run again with --print to see the link yourself (ops-logged)`,
      );
    }
    if (outcome === 'held') {
      throw new FleetError(
        'conflict',
        `the agent of ${clientId} held the enrolment mail in its outbox for a person (the provider refused it or it awaits review), so it was not mailed: run again with --print to see the link yourself (ops-logged)`,
      );
    }
    return { delivery: 'mailed', clientId, email, expiresAt, outcome };
  }
}
