import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { crossedGuardRails, unconfirmedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import {
  MAX_SETTINGS_BYTES,
  settingsConfigHash,
  settingsDocumentBytes,
  staleEditMessage,
  type SettingsAuthor,
  type SettingsVersion,
} from '@agent-fleet/kernel/settings-version';
import { settingsChanged } from '../../domain/audit-events-settings.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { configOf, type NewSettingsVersion, type SettingsHistory } from './settings-history.ts';
import type { LiveSettings, SettingsListener } from './settings-source.ts';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

export interface SettingsChangeRequest {
  /** The version the edit started from: a stale one is refused (no lost update). */
  baseVersion: number;
  /** The whole new document (untrusted). */
  document: unknown;
  author: SettingsAuthor;
  reason: string;
  /** Ids of the guard rails the author confirmed (see kernel settings-guard-rails.ts). */
  confirm: readonly string[];
}

export interface SettingsRollbackRequest {
  toVersion: number;
  /** Default: the head at the time of the call. */
  baseVersion?: number | undefined;
  author: SettingsAuthor;
  reason: string;
  confirm: readonly string[];
}

export interface SettingsDeskOptions {
  history: SettingsHistory;
  live: LiveSettings;
  audit: AuditLog;
  now: () => Date;
  logger: Logger;
}

/** What the control API needs of the settings (http/settings-routes.ts). */
export interface SettingsAccess {
  /** The settings desk of the opened volume; FleetError('unavailable') before the introduction. */
  settingsAccess(): SettingsDesk;
}

/**
 * The client's settings as versions: shows the head and the history, makes new versions (validated by
 * the config schema, refused when stale or past a guard rail not confirmed), rolls back, and takes the
 * config file the orchestrator placed at start. Each version is durable, then applied live, then audited,
 * one change at a time; nothing is applied half.
 */
export class SettingsDesk {
  private readonly options: SettingsDeskOptions;
  private readonly queue = new SerialQueue();
  private readonly unfollows: Array<() => void> = [];

  constructor(options: SettingsDeskOptions) {
    this.options = options;
  }

  /** The version in force. */
  head(): SettingsVersion {
    const head = this.options.history.head;
    if (head === null) throw new FleetError('unavailable', 'the settings history is not open yet');
    return head;
  }

  /** Versions newest first, at most `limit`. */
  history(limit: number): SettingsVersion[] {
    return [...this.options.history.versions()].reverse().slice(0, limit);
  }

  version(version: number): SettingsVersion {
    const found = this.options.history.get(version);
    if (found === undefined) throw new FleetError('not_found', `no settings version ${version}`);
    return found;
  }

  change(request: SettingsChangeRequest): Promise<SettingsVersion> {
    return this.queue.run(() => this.changeNow(request, null));
  }

  rollback(request: SettingsRollbackRequest): Promise<SettingsVersion> {
    return this.queue.run(() => {
      const target = this.version(request.toVersion);
      const baseVersion = request.baseVersion ?? this.head().version;
      const { author, reason, confirm } = request;
      return this.changeNow({ baseVersion, document: target.config, author, reason, confirm }, target.version);
    });
  }

  /**
   * At start: the config file the orchestrator placed becomes version 1 of a new history, or a new
   * version when it changed since it was last taken (ops re-provisioned it); a file equal to the head, or
   * the same file the head has since moved past, changes nothing. Versions made before a crash that never
   * reached the audit log are audited now. Then the head is applied.
   */
  adoptFile(file: ClientConfig): Promise<SettingsVersion> {
    return this.queue.run(async () => {
      const { history } = this.options;
      await this.auditUnaudited();
      const head = history.head;
      const fileHash = settingsConfigHash(file);
      const lastFile = [...history.versions()].reverse().find((version) => version.source === 'file');
      if (head === null) {
        await this.record(this.fileVersion(file, { kind: 'system', id: 'provisioning' }, 'the provisioned config'), null);
      } else if (head.configHash !== fileHash && lastFile?.configHash !== fileHash) {
        const rails = crossedGuardRails(configOf(head), file, this.options.now()).map((rail) => rail.id);
        await this.record({ ...this.fileVersion(file, { kind: 'operator', id: 'config-file' }, 'the config file placed by the orchestrator changed'), changes: diffSettings(head.config, file), guardRails: rails }, head);
      }
      const current = this.head();
      this.options.live.apply(current.version, current.hash, configOf(current));
      return current;
    });
  }

  private fileVersion(file: ClientConfig, author: SettingsAuthor, reason: string): NewSettingsVersion {
    const at = this.options.now().toISOString();
    return { at, author, reason, config: file, changes: diffSettings({}, file), guardRails: [], rollbackOf: null, source: 'file' };
  }

  private async changeNow(request: SettingsChangeRequest, rollbackOf: number | null): Promise<SettingsVersion> {
    const head = this.head();
    if (request.baseVersion !== head.version) throw new FleetError('conflict', staleEditMessage(head));
    if (settingsDocumentBytes(request.document) > MAX_SETTINGS_BYTES) {
      throw new FleetError('invalid_input', `settings document: larger than ${MAX_SETTINGS_BYTES} bytes (1 MiB); nothing was changed`);
    }
    const parsed = parseClientConfig(request.document);
    if (!parsed.ok) throw new FleetError('invalid_input', `settings document is invalid; nothing was changed: ${parsed.issues.join('; ')}`);
    const config = parsed.config;
    if (config.client !== head.config.client) throw new FleetError('invalid_input', `client: cannot change (it is ${head.config.client})`);
    const changes = diffSettings(head.config, config);
    if (changes.length === 0) return head;
    // The control API is the agent's own boundary (the orchestrator checks first); the YAML renderer the
    // check needs is loaded here, off the start path.
    (await import('@agent-fleet/kernel/settings-storable')).assertSettingsStorable(config);
    const rails = crossedGuardRails(configOf(head), config, this.options.now());
    const missing = unconfirmedGuardRails(rails, request.confirm);
    if (missing.length > 0) {
      throw new FleetError('invalid_input', `confirmation required; nothing was changed: ${missing.map((rail) => `${rail.id} (${rail.risk})`).join('; ')}`);
    }
    const at = this.options.now().toISOString();
    const reason = request.reason.trim() === '' ? 'no reason given' : request.reason.trim();
    return this.record({ at, author: request.author, reason, config, changes, guardRails: rails.map((rail) => rail.id), rollbackOf, source: 'api' }, head);
  }

  /** Durable first, then applied, then audited (a crash before the audit is caught up at the next start). */
  private async record(input: NewSettingsVersion, previous: SettingsVersion | null): Promise<SettingsVersion> {
    const version = await this.options.history.append(input);
    this.options.live.apply(version.version, version.hash, configOf(version));
    await this.options.audit.append(settingsChanged(version, previous));
    this.options.logger.info('settings version applied', { version: version.version, author: version.author.kind, guardRails: version.guardRails });
    return version;
  }

  private async auditUnaudited(): Promise<void> {
    let audited = 0;
    for await (const record of this.options.audit.records()) {
      const version = record.parameters['settings_version'];
      if (record.action_type === 'config_change' && typeof version === 'number') audited = Math.max(audited, version);
    }
    const versions = this.options.history.versions();
    for (const version of versions.slice(audited)) await this.options.audit.append(settingsChanged(version, versions[version.version - 2] ?? null));
  }

  /**
   * Tells `listener` of each version applied while this desk is open: close() stops it, so the parts
   * of a volume closed after a failed start are not told of the versions a later open applies.
   */
  follow(listener: SettingsListener): void {
    this.unfollows.push(this.options.live.onChange(listener));
  }

  /** Closes the history once the changes in flight are done, and stops telling the followers. */
  async close(): Promise<void> {
    await this.queue.idle();
    for (const unfollow of this.unfollows.splice(0)) unfollow();
    await this.options.history.close();
  }

}
