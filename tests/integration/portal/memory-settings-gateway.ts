import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { crossedGuardRails, unconfirmedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { plainChange } from '../../../orchestrator/src/portal/settings/change-text.ts';
import type {
  PortalDailySeries,
  PortalGrant,
  PortalGraduationRow,
  PortalSettingsChange,
  PortalSettingsHead,
  PortalSettingsVersion,
  SettingsGateway,
} from '../../../orchestrator/src/portal/settings-gateway.ts';

interface Version extends PortalSettingsVersion {
  config: ClientConfig;
}

const DAY_MS = 86_400_000;

/**
 * The portal's settings port as a test double that follows the agent's rules with the kernel's own
 * functions: a stale base is refused ("changed by X at T, reload"), an invalid document names its field,
 * an unconfirmed guard rail is refused, every change is a new version. Seeded with 30 days of figures.
 */
export class MemorySettingsGateway implements SettingsGateway {
  readonly versions = new Map<string, Version[]>();
  readonly narrowings: { clientId: string; by: string }[] = [];
  grant: PortalGrant = { provider: 'gmail', state: 'ok', missing: [], extra: [], narrowRequested: false, command: 'fleet connect acme --provider gmail --oauth-client-id <id>' };
  graduationRows: PortalGraduationRow[] = [];
  now: () => Date = () => new Date();

  addClient(clientId: string, config: Omit<ClientConfigInput, 'client'>): void {
    const parsed = parseClientConfig({ client: clientId, ...config });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    this.versions.set(clientId, [
      { version: 1, at: new Date(this.now().getTime() - 40 * DAY_MS).toISOString(), author: 'provisioning (system)', reason: 'the provisioned config', changes: [], guardRails: [], rollbackOf: null, config: parsed.config },
    ]);
  }

  private list(clientId: string): Version[] {
    const list = this.versions.get(clientId);
    if (list === undefined) throw new FleetError('not_found', `no client ${clientId}`);
    return list;
  }

  async current(clientId: string): Promise<PortalSettingsHead> {
    const head = this.list(clientId).at(-1) as Version;
    return { version: head.version, at: head.at, author: head.author, reason: head.reason, config: head.config, grant: this.grant };
  }

  async history(clientId: string, limit: number): Promise<PortalSettingsVersion[]> {
    return [...this.list(clientId)].reverse().slice(0, limit).map(({ config: _config, ...version }) => version);
  }

  async change(clientId: string, change: PortalSettingsChange, by: string) {
    return this.make(clientId, change.baseVersion, change.document, `${by} (client admin)`, change.reason, change.confirm, null);
  }

  async rollback(clientId: string, input: { toVersion: number; baseVersion: number; reason: string; confirm: string[] }, by: string) {
    const target = this.list(clientId)[input.toVersion - 1];
    if (target === undefined) throw new FleetError('not_found', `no settings version ${input.toVersion}`);
    return this.make(clientId, input.baseVersion, target.config, `${by} (client admin)`, input.reason, input.confirm, input.toVersion);
  }

  async versionConfig(clientId: string, version: number): Promise<ClientConfig> {
    const found = this.list(clientId)[version - 1];
    if (found === undefined) throw new FleetError('not_found', `no settings version ${version}`);
    return found.config;
  }

  async graduation(): Promise<PortalGraduationRow[]> {
    return this.graduationRows;
  }

  async series(_clientId: string, days: number): Promise<PortalDailySeries> {
    const today = this.now().getTime();
    const list = Array.from({ length: days }, (_, index) => new Date(today - (days - 1 - index) * DAY_MS).toISOString().slice(0, 10));
    const wave = (scale: number, phase: number) => list.map((_, index) => Math.max(0, Math.round(scale * (1 + Math.sin((index + phase) / 3)))));
    return {
      timezone: 'Europe/London',
      days: list,
      sent: wave(6, 0),
      drafted: wave(9, 1),
      approvalsRequested: wave(4, 2),
      approvalsDecided: wave(4, 3),
      denials: { blocked_recipient: wave(1, 0), rate_limit_hour: wave(0.6, 4), permission_denied: wave(0.4, 2) },
    };
  }

  async requestNarrowing(clientId: string, by: string): Promise<void> {
    this.narrowings.push({ clientId, by });
    this.grant = { ...this.grant, narrowRequested: true };
  }

  private async make(clientId: string, base: number, document: unknown, author: string, reason: string, confirm: readonly string[], rollbackOf: number | null) {
    const list = this.list(clientId);
    const head = list.at(-1) as Version;
    if (base !== head.version) throw new FleetError('conflict', `changed by ${head.author} at ${head.at}, reload`);
    const parsed = parseClientConfig(document);
    if (!parsed.ok) throw new FleetError('invalid_input', parsed.issues.join('; '));
    const changes = diffSettings(head.config, parsed.config);
    if (changes.length === 0) return { version: head.version, changed: false, grant: this.grant };
    const rails = crossedGuardRails(head.config, parsed.config, this.now());
    const missing = unconfirmedGuardRails(rails, confirm);
    if (missing.length > 0) throw new FleetError('invalid_input', `confirmation required: ${missing.map((rail) => rail.id).join(', ')}`);
    list.push({
      version: head.version + 1,
      at: this.now().toISOString(),
      author,
      reason,
      changes: changes.map(plainChange),
      guardRails: rails.map((rail) => rail.id),
      rollbackOf,
      config: parsed.config,
    });
    return { version: head.version + 1, changed: true, grant: this.grant };
  }
}
