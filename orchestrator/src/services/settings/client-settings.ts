import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientConfigYaml, renderClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { assertSettingsStorable } from '@agent-fleet/kernel/settings-storable';
import { MAX_SETTINGS_BYTES, settingsConfigHash, settingsDocumentBytes, type SettingsAuthor, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { AgentControl } from '../../ports/agent-control.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EgressTunnels } from '../../ports/egress-tunnels.ts';
import type { Registry } from '../../ports/registry.ts';
import type { AgentProxyService } from '../agent-proxy.ts';
import { Mutex } from '../mutex.ts';
import { confirmGuardRail, type GuardRailConfirmInput, type GuardRailConfirmOutcome } from './guard-rail-confirmation.ts';
import { GRANT_STATUS_ACTIONS, grantStatusOf, type GrantStatus } from './grant-status.ts';
import { settingsChangeEntries, type RecordedAtProvision, type VersionSummary } from './settings-ops-log.ts';

export interface ClientSettingsDependencies {
  registry: Registry;
  agents: Pick<AgentProxyService, 'reach'>;
  control: AgentControl;
  clock: Clock;
  logger: Logger;
  /** The egress proxies (none when the runtime has none): a recorded change cuts tunnels the new settings no longer allow. */
  egress?: EgressTunnels | null;
  /** Support grants: a change that removes an admin ends the grants that admin approved, at the change. */
  supportGrants?: { endGrantsOfFormerAdmins(clientId: ClientId, admins: readonly string[]): Promise<unknown> };
}

/** Who asks, and through what: the author the agent records and the actor the ops log records. */
export interface SettingsActor {
  author: SettingsAuthor;
  /** The ops-log actor: the operator identity, or `client-admin:<address>` from the portal. */
  actor: string;
  via: 'cli' | 'api' | 'portal';
}

export interface SettingsChangeInput extends SettingsActor {
  clientId: unknown;
  /** The version the edit started from. */
  baseVersion: number;
  /** The whole new document: YAML text (ops) or a parsed document (portal). */
  document: { yaml: string } | { json: unknown };
  reason: string;
  confirm: readonly string[];
}

export interface SettingsView {
  clientId: ClientId;
  version: SettingsVersion;
  yaml: string;
  grant: GrantStatus;
}

export interface SettingsChangeOutcome {
  clientId: ClientId;
  /** False when the document equals the head: no version was made. */
  changed: boolean;
  version: VersionSummary;
  grant: GrantStatus;
}

/**
 * `fleet config show|set|history|rollback` and the portal's settings pages: one versioned settings
 * document per client, kept by its agent. Every change goes through the agent (which validates it, refuses
 * a stale or unconfirmed one, records and applies it live), then lands here: the registry's copy of the
 * config follows the head, and the ops log records the change, its author and each guard rail it crossed.
 */
export class ClientSettingsService {
  private readonly deps: ClientSettingsDependencies;
  private readonly locks = new Map<string, Mutex>();

  constructor(deps: ClientSettingsDependencies) {
    this.deps = deps;
  }

  async show(rawClientId: unknown): Promise<SettingsView> {
    const clientId = parseClientId(rawClientId);
    const version = checkedVersion(clientId, await this.call<SettingsVersion>(clientId, 'GET', '/v1/settings'));
    return { clientId, version, yaml: renderClientConfigYaml(version.config), grant: await this.grant(clientId, version.config) };
  }

  async history(rawClientId: unknown, limit = 100): Promise<VersionSummary[]> {
    const clientId = parseClientId(rawClientId);
    return (await this.call<{ versions: VersionSummary[] }>(clientId, 'GET', `/v1/settings/history?limit=${Math.min(Math.max(1, limit), 1000)}`)).versions;
  }

  async version(rawClientId: unknown, version: number): Promise<SettingsVersion> {
    if (!Number.isSafeInteger(version) || version < 1) throw new FleetError('invalid_input', 'version must be a whole number from 1');
    const clientId = parseClientId(rawClientId);
    return checkedVersion(clientId, await this.call<SettingsVersion>(clientId, 'GET', `/v1/settings/versions/${version}`), version);
  }

  async grant(clientId: ClientId, config: Pick<ClientConfig, 'provider' | 'permissions'>): Promise<GrantStatus> {
    return grantStatusOf(clientId, config, await this.deps.registry.listOpsLog({ clientId, actions: GRANT_STATUS_ACTIONS }));
  }

  async change(input: SettingsChangeInput): Promise<SettingsChangeOutcome> {
    const clientId = parseClientId(input.clientId);
    const document = 'yaml' in input.document ? parseClientConfigYaml(input.document.yaml, 'settings document') : checkedDocument(input.document.json);
    assertSettingsStorable(document);
    const body = { baseVersion: input.baseVersion, document, author: input.author, reason: input.reason, confirm: [...input.confirm] };
    return this.apply(clientId, input, () => this.call<VersionSummary>(clientId, 'POST', '/v1/settings', body));
  }

  async rollback(input: SettingsActor & { clientId: unknown; toVersion: number; baseVersion?: number | undefined; reason: string; confirm: readonly string[] }): Promise<SettingsChangeOutcome> {
    const clientId = parseClientId(input.clientId);
    const body = { toVersion: input.toVersion, ...(input.baseVersion === undefined ? {} : { baseVersion: input.baseVersion }), author: input.author, reason: input.reason, confirm: [...input.confirm] };
    return this.apply(clientId, input, () => this.call<VersionSummary>(clientId, 'POST', '/v1/settings/rollback', body));
  }

  /** `fleet config confirm`: records the operator's confirmation of a rail the current settings cross (see confirmGuardRail). */
  confirmGuardRail(input: GuardRailConfirmInput): Promise<GuardRailConfirmOutcome> {
    return confirmGuardRail({ ...this.deps, settings: this }, input);
  }

  /**
   * One settings operation of a client at a time in this orchestrator (a change and its recording, or a
   * checkpoint), so a checkpoint never records a version a change is still recording.
   */
  exclusive<T>(clientId: ClientId, task: () => Promise<T>): Promise<T> {
    let lock = this.locks.get(clientId);
    if (lock === undefined) {
      lock = new Mutex();
      this.locks.set(clientId, lock);
    }
    return lock.run(task);
  }

  /** Makes the change at the agent, then brings the registry and the ops log up to it. */
  private apply(clientId: ClientId, who: SettingsActor, make: () => Promise<VersionSummary>): Promise<SettingsChangeOutcome> {
    return this.exclusive(clientId, () => this.applyNow(clientId, who, make));
  }

  private async applyNow(clientId: ClientId, who: SettingsActor, make: () => Promise<VersionSummary>): Promise<SettingsChangeOutcome> {
    const before = checkedVersion(clientId, await this.call<SettingsVersion>(clientId, 'GET', '/v1/settings'));
    const made = await make();
    const changed = made.version > before.version;
    const next = changed ? await this.version(clientId, made.version) : before;
    if (changed) {
      const previous = made.version - 1 === before.version ? before : await this.version(clientId, made.version - 1);
      await this.record(clientId, who, made, previous.config, next.config);
    }
    return { clientId, changed, version: made, grant: await this.grant(clientId, next.config) };
  }

  /** The registry's copy follows the head; the ops log records the change and its flags. */
  async record(
    clientId: ClientId,
    who: { actor: string; via: string },
    made: VersionSummary,
    previous: ClientConfig,
    next: ClientConfig,
    action?: string,
    recordedAtProvision?: RecordedAtProvision,
  ): Promise<void> {
    const { registry, clock, logger } = this.deps;
    await registry.updateConfig(clientId, { configYaml: renderClientConfigYaml(next), admins: [...next.admins], provider: next.provider }, clock.now());
    for (const entry of settingsChangeEntries({ actor: who.actor, clientId, version: made, previous, next, via: who.via, ...(action === undefined ? {} : { action }), recordedAtProvision })) {
      await registry.appendOpsLog(entry);
    }
    logger.info('settings version recorded', { client: clientId, version: made.version, guardRails: made.guardRails });
    // The proxies decide each CONNECT against the registry's copy; a tunnel opened before the change is cut here
    // (and by the proxies' periodic re-check, should this fail).
    await this.deps.egress?.recheck(clientId).catch((error: unknown) => logger.warn('egress tunnels not re-checked after a settings change', { client: clientId, error }));
    // Ended now, so that an admin removed and added back does not bring the grant back (every read of the
    // grants ends them too, should this fail).
    await this.deps.supportGrants
      ?.endGrantsOfFormerAdmins(clientId, next.admins)
      .catch((error: unknown) => logger.warn('support grants not re-checked after a settings change', { client: clientId, error }));
  }

  /** A call to the client's agent; its error keeps its code and loses the route prefix. */
  async call<T>(clientId: ClientId, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const { address, token } = await this.deps.agents.reach(clientId);
    try {
      return await this.deps.control.request<T>(clientId, address, token, method, path, body, 30_000);
    } catch (error) {
      if (!isFleetError(error)) throw error;
      const message = error.message.replace(/^(GET|POST) \/v1\/settings[^:]*: /, '');
      throw new FleetError(error.code, message, { cause: error, retryable: error.retryable });
    }
  }
}

/** A document from the portal or the API, checked here first so the agent gets only a valid one. */
function checkedDocument(document: unknown): ClientConfig {
  if (settingsDocumentBytes(document) > MAX_SETTINGS_BYTES) {
    throw new FleetError('invalid_input', `settings document: larger than ${MAX_SETTINGS_BYTES} bytes (1 MiB); nothing was changed`);
  }
  const parsed = parseClientConfig(document);
  if (!parsed.ok) throw new FleetError('invalid_input', `settings document is invalid; nothing was changed: ${parsed.issues.join('; ')}`);
  return parsed.config;
}

/**
 * A version as the agent reports it is untrusted: its document becomes the registry's copy of the config
 * (read back by support access, exports, the doctor, and placed as the agent's config file at its next
 * start) and the base of the guard rails the ops log flags. Only a valid document of this client, under
 * the number asked for and the hash it states, is taken.
 */
function checkedVersion(clientId: ClientId, reply: SettingsVersion, expected?: number): SettingsVersion {
  const refuse = (problem: string) => new FleetError('integrity', `the agent of ${clientId} reported a settings version that ${problem}; nothing was recorded`);
  if (typeof reply !== 'object' || reply === null) throw refuse('is not a version');
  if (!Number.isSafeInteger(reply.version) || reply.version < 1 || (expected !== undefined && reply.version !== expected)) throw refuse(`is not version ${expected ?? 'number'}`);
  const parsed = parseClientConfig(reply.config);
  if (!parsed.ok) throw refuse(`holds an invalid document (${parsed.issues.slice(0, 3).join('; ')})`);
  if (parsed.config.client !== clientId) throw refuse('belongs to another client');
  if (settingsConfigHash(parsed.config) !== reply.configHash) throw refuse('does not match its hash');
  return { ...reply, config: parsed.config };
}
