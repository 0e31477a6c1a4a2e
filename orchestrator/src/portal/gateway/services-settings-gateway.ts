import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { describeAuthor } from '@agent-fleet/kernel/settings-version';
import type { Registry } from '../../ports/registry.ts';
import type { ClientSettingsService } from '../../services/settings/client-settings.ts';
import { plainChange } from '../settings/change-text.ts';
import { NARROW_REQUEST_ACTION, type GrantStatus } from '../../services/settings/grant-status.ts';
import type { PortalDailySeries, PortalGrant, PortalGraduationRow, PortalSettingsHead, PortalSettingsVersion, SettingsGateway } from '../settings-gateway.ts';

/** How the ops log names a client admin acting through the portal. */
const actorOf = (by: string) => `client-admin:${by}`;
const adminOf = (by: string) => ({ author: { kind: 'admin' as const, id: by }, actor: actorOf(by), via: 'portal' as const });

function portalGrant(grant: GrantStatus): PortalGrant {
  const { provider, state, missing, extra, narrowRequested, command } = grant;
  return { provider, state, missing, extra, narrowRequested, command };
}

/** The portal's settings over the orchestrator's settings service and the agent's dashboards. */
export class ServicesSettingsGateway implements SettingsGateway {
  private readonly deps: { settings: ClientSettingsService; registry: Pick<Registry, 'appendOpsLog'> };

  constructor(deps: ServicesSettingsGateway['deps']) {
    this.deps = deps;
  }

  async current(clientId: string): Promise<PortalSettingsHead> {
    const view = await this.deps.settings.show(clientId);
    const { version, at, author, reason, config } = view.version;
    return { version, at, author: describeAuthor(author), reason, config, grant: portalGrant(view.grant) };
  }

  async history(clientId: string, limit: number): Promise<PortalSettingsVersion[]> {
    return (await this.deps.settings.history(clientId, limit)).map((version) => ({
      version: version.version,
      at: version.at,
      author: describeAuthor(version.author),
      reason: version.reason,
      changes: version.changes.map(plainChange),
      guardRails: version.guardRails,
      rollbackOf: version.rollbackOf,
    }));
  }

  async change(clientId: string, change: Parameters<SettingsGateway['change']>[1], by: string) {
    const outcome = await this.deps.settings.change({ clientId, ...change, document: { json: change.document }, ...adminOf(by) });
    return { version: outcome.version.version, changed: outcome.changed, grant: portalGrant(outcome.grant) };
  }

  async rollback(clientId: string, input: Parameters<SettingsGateway['rollback']>[1], by: string) {
    const outcome = await this.deps.settings.rollback({ clientId, ...input, ...adminOf(by) });
    return { version: outcome.version.version, changed: outcome.changed, grant: portalGrant(outcome.grant) };
  }

  async versionConfig(clientId: string, version: number) {
    return (await this.deps.settings.version(clientId, version)).config;
  }

  async graduation(clientId: string): Promise<PortalGraduationRow[]> {
    return (await this.deps.settings.call<{ types: PortalGraduationRow[] }>(parseClientId(clientId), 'GET', '/v1/settings/graduation')).types;
  }

  series(clientId: string, days: number): Promise<PortalDailySeries> {
    return this.deps.settings.call<PortalDailySeries>(parseClientId(clientId), 'GET', `/v1/summary/series?days=${days}`);
  }

  async requestNarrowing(clientId: string, by: string): Promise<void> {
    const id = parseClientId(clientId);
    const grant = (await this.deps.settings.show(id)).grant;
    if (grant.state !== 'narrowable') throw new FleetError('conflict', 'the grant holds nothing the settings do not need');
    await this.deps.registry.appendOpsLog({
      actor: actorOf(by),
      action: NARROW_REQUEST_ACTION,
      clientId: id,
      reason: `narrow the mailbox grant at the next consent: ${grant.extra.join(', ')} no longer needed`,
      outcome: 'requested',
      details: { provider: grant.provider, extra: grant.extra, via: 'portal' },
    });
  }
}
