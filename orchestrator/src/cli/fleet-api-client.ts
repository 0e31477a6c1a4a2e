import type { ClientId } from '@agent-fleet/kernel/client-id';
import { errorCodeOfResponse, isRetryableCode } from '@agent-fleet/kernel/error-status';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OpsLogVerification } from '../domain/ops-log-chain.ts';
import type { SagaEvent } from '../domain/saga.ts';
import type { ConnectProvider, MailboxConnectTarget } from '../ports/oauth-consent.ts';
import type { OpsLogEntry } from '../ports/registry.ts';
import type { SecretMetadata } from '../ports/secret-store.ts';
import type { ClientDescription } from '../services/describe-client.ts';
import type { KillResult } from '../services/kill-client.ts';
import type { ProvisionResult } from '../services/provision-client.ts';
import type { ReconcileReport } from '../services/reconcile-fleet.ts';
import type { ReviewQueue, ReviewQueueEntry, ReviewResolution, ReviewResolutionResult } from '../services/review-queue.ts';
import type { RotationResult } from '../services/rotate-credentials.ts';
import type { OperatorApprovals } from '../services/operator-approvals.ts';
import type { InviteResult } from '../services/portal-invites.ts';
import type { SupportGrant } from '../services/support-access.ts';
import type { BackupInfo } from '../ports/backup-store.ts';
import type { RestoreResult } from '../services/backup/restore-client.ts';
import type { EraseOutcome } from '../services/erasure/erase-client.ts';
import type { ErasureRequest } from '../services/erasure/erasure-records.ts';
import { IncidentApiClient } from './incident-api-client.ts';
import { SettingsApiClient } from './settings-api-client.ts';
import { SettingsConfirmClient } from './settings-confirm-client.ts';
import type { AgentRuntimeKind, OrchestratorClient } from './orchestrator-client.ts';

export type ClientSummary = ClientDescription['client'];

/** What `fleet provision` sends besides the actor. */
export interface ProvisionBody {
  /** The client config YAML; default: the safe defaults. */
  config?: string;
  runtime?: AgentRuntimeKind;
  /** Guard rails (by id) the config crosses that the operator accepts. */
  confirm?: string[];
}

/** One line of the provisioning stream; an error line arrives as the FleetError it was. */
export type ProvisionLine =
  { plan: string[] } | { event: SagaEvent } | { result: ProvisionResult } | { error: FleetError };

/** `GET …/audit/verify`: the agent's verification of its chain, beside the checkpoint held outside it. */
export interface AuditVerifyResult {
  verification: { ok: boolean; count?: number; break?: { kind: string; seq: number; message: string } };
  checkpoint: unknown;
}

/** `POST …/audit/reanchor`: the checkpoint now, and the one it replaced. */
export interface AuditReanchorResult {
  previous: { seq: number; hash: string; at: string } | null;
  checkpoint: { seq: number; hash: string };
}

export interface AuditExportQuery {
  format: string;
  since?: string | undefined;
  until?: string | undefined;
}

export interface SupportRequest {
  incident: string;
  reason: string;
  hours: number;
  member?: string | undefined;
}

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  by: string;
  reason?: string | undefined;
}

const erasureBody = (request: { requestId: string; receivedAt?: string | undefined }) =>
  request.receivedAt === undefined ? { requestId: request.requestId } : { requestId: request.requestId, receivedAt: request.receivedAt };

const clientPath = (clientId: ClientId, suffix = '') => `/v1/clients/${clientId}${suffix}`;
const segment = encodeURIComponent;

/**
 * The orchestrator's ops API as typed calls: every URL the CLI uses is here. Writes carry `actor`, the
 * operator identity that goes to the ops log. Errors are FleetErrors with the code the service raised.
 */
export class FleetApiClient {
  readonly #transport: OrchestratorClient;
  readonly #actor: string;

  constructor(transport: OrchestratorClient, actor: string) {
    this.#transport = transport;
    this.#actor = actor;
  }

  /** The incident process (`/v1/incidents`). */
  get incidents(): IncidentApiClient {
    return new IncidentApiClient(this.#transport, this.#actor);
  }

  /** Each client's versioned settings (`/v1/clients/:id/settings`). */
  get settings(): SettingsApiClient {
    return new SettingsApiClient(this.#transport, this.#actor);
  }

  /** Guard-rail confirmations of a client's settings in force (`fleet config confirm`). */
  get settingsConfirmations(): SettingsConfirmClient {
    return new SettingsConfirmClient(this.#transport, this.#actor);
  }

  async listClients(): Promise<ClientSummary[]> {
    return (await this.#transport.request<{ clients: ClientSummary[] }>('GET', '/v1/clients')).clients;
  }

  describeClient(clientId: ClientId): Promise<ClientDescription> {
    return this.#transport.request('GET', clientPath(clientId));
  }

  /** Provisions, delivering the plan, each step's event and then the result or the error as they happen. */
  provision(
    clientId: ClientId,
    body: ProvisionBody,
    onLine: (line: ProvisionLine) => void,
  ): Promise<void> {
    return this.#transport.stream(
      clientPath(clientId, '/provision'),
      { ...body, actor: this.#actor },
      (raw) => {
        const line = raw as ProvisionLine | { error: { code?: unknown; message?: unknown } };
        if (!('error' in line)) return onLine(line);
        const code = errorCodeOfResponse(500, line.error);
        const message = typeof line.error.message === 'string' ? line.error.message : 'provisioning failed';
        onLine({ error: new FleetError(code, message, { retryable: isRetryableCode(code) }) });
      },
    );
  }

  deprovision(
    clientId: ClientId,
    options: { purge: boolean; reason?: string | undefined },
  ): Promise<{ clientId: ClientId; purged: boolean }> {
    return this.#transport.request('POST', clientPath(clientId, '/deprovision'), {
      purge: options.purge,
      reason: options.reason,
      actor: this.#actor,
    });
  }

  reconcile(): Promise<ReconcileReport> {
    return this.#transport.request('POST', '/v1/reconcile');
  }

  kill(clientId: ClientId, reason: string): Promise<KillResult> {
    return this.#transport.request('POST', clientPath(clientId, '/kill'), { reason, actor: this.#actor });
  }

  revive(clientId: ClientId, reason: string): Promise<{ clientId: ClientId }> {
    return this.#transport.request('POST', clientPath(clientId, '/revive'), { reason, actor: this.#actor });
  }

  rotate(clientId: ClientId, reason: string): Promise<RotationResult> {
    return this.#transport.request('POST', clientPath(clientId, '/rotate'), { reason, actor: this.#actor });
  }

  async resume(clientId: ClientId): Promise<void> {
    await this.#transport.request('POST', clientPath(clientId, '/resume'), { actor: this.#actor });
  }

  setSecret(
    clientId: ClientId,
    name: string,
    value: string,
  ): Promise<{ clientId: ClientId; name: string; version: number }> {
    return this.#transport.request('PUT', clientPath(clientId, `/secrets/${segment(name)}`), {
      value,
      actor: this.#actor,
    });
  }

  async listSecrets(clientId: ClientId): Promise<SecretMetadata[]> {
    return (
      await this.#transport.request<{ secrets: SecretMetadata[] }>('GET', clientPath(clientId, '/secrets'))
    ).secrets;
  }

  /** The scopes the client's config asks of `provider`; refuses a provider the config does not use (or grant). */
  mailboxConsent(
    clientId: ClientId,
    provider: ConnectProvider,
  ): Promise<{ clientId: ClientId; provider: ConnectProvider; scopes: string[] }> {
    return this.#transport.request(
      'GET',
      clientPath(clientId, `/mailbox-consent?provider=${segment(provider)}`),
    );
  }

  /** Counts and ages only, unless this operator holds an active support grant of the client. */
  listApprovals(clientId: ClientId, status: string): Promise<OperatorApprovals> {
    const params = new URLSearchParams({ status, actor: this.#actor });
    return this.#transport.request('GET', clientPath(clientId, `/approvals?${params}`));
  }

  /** The messages the client's agent parked for a human: reason and since when, no content. */
  listReview(clientId: ClientId): Promise<ReviewQueue<ReviewQueueEntry>> {
    return this.#transport.request('GET', clientPath(clientId, '/review'));
  }

  /** Resolves a parked message: dealt with by a human (`handled`), or given back to the agent once (`retry`). */
  resolveReview(clientId: ClientId, messageId: string, resolution: ReviewResolution): Promise<ReviewResolutionResult> {
    return this.#transport.request('POST', clientPath(clientId, '/review/resolve'), { messageId, resolution, actor: this.#actor });
  }

  decideApproval(clientId: ClientId, approvalId: string, decision: ApprovalDecision): Promise<unknown> {
    return this.#transport.request(
      'POST',
      clientPath(clientId, `/approvals/${segment(approvalId)}/decision`),
      { ...decision, actor: this.#actor },
    );
  }

  verifyAudit(clientId: ClientId): Promise<AuditVerifyResult> {
    return this.#transport.request('GET', clientPath(clientId, '/audit/verify'));
  }

  /** Re-anchors the checkpoint on the agent's current chain (a fresh session); the ops log keeps the old one. */
  reanchorAudit(clientId: ClientId, reason: string): Promise<AuditReanchorResult> {
    return this.#transport.request('POST', clientPath(clientId, '/audit/reanchor'), { reason, actor: this.#actor });
  }

  /**
   * Accepts the volume the agent refused as rolled back (a fresh session): resets its journal anchor,
   * introduces it again and re-anchors the checkpoint on its chain; the ops log keeps the old one.
   */
  acceptAgentVolume(clientId: ClientId, reason: string): Promise<AuditReanchorResult> {
    return this.#transport.request('POST', clientPath(clientId, '/audit/accept-volume'), { reason, actor: this.#actor });
  }

  /** Copies the export to `sink` as it arrives; the actor needs an active support grant. */
  exportAudit(clientId: ClientId, query: AuditExportQuery, sink: NodeJS.WritableStream): Promise<void> {
    const params = new URLSearchParams({ format: query.format, actor: this.#actor });
    if (query.since !== undefined) params.set('since', query.since);
    if (query.until !== undefined) params.set('until', query.until);
    return this.#transport.download(clientPath(clientId, `/audit/export?${params}`), sink);
  }

  requestSupport(clientId: ClientId, request: SupportRequest): Promise<SupportGrant> {
    const { member, ...rest } = request;
    return this.#transport.request('POST', clientPath(clientId, '/support-grants'), {
      ...rest,
      ...(member === undefined ? {} : { member }),
      actor: this.#actor,
    });
  }

  revokeSupport(clientId: ClientId, grantId: string): Promise<SupportGrant> {
    return this.#transport.request(
      'POST',
      clientPath(clientId, `/support-grants/${segment(grantId)}/revoke`),
      { actor: this.#actor },
    );
  }

  /** An enrolment link for a client admin: mailed through the client's mailbox, or shown (`print`, ops-logged). */
  invitePortalAdmin(clientId: ClientId, email: string, print: boolean): Promise<InviteResult> {
    return this.#transport.request('POST', clientPath(clientId, '/portal-invites'), {
      email,
      print,
      actor: this.#actor,
    });
  }

  async listSupportGrants(clientId: ClientId): Promise<SupportGrant[]> {
    return (
      await this.#transport.request<{ grants: SupportGrant[] }>(
        'GET',
        clientPath(clientId, '/support-grants'),
      )
    ).grants;
  }

  /** The fleet's public export key (Ed25519, SPKI PEM) and its id. */
  exportKey(): Promise<{ keyId: string; publicKeyPem: string }> {
    return this.#transport.request('GET', '/v1/export-key');
  }

  /** Copies the client's complete export (a signed tar) to `sink`; the actor needs an active support grant. */
  downloadExport(clientId: ClientId, sink: NodeJS.WritableStream): Promise<void> {
    return this.#transport.download(clientPath(clientId, `/export?actor=${segment(this.#actor)}`), sink);
  }

  backup(clientId: ClientId): Promise<BackupInfo & { frozen: boolean; stillPaused: boolean }> {
    return this.#transport.request('POST', clientPath(clientId, '/backups'), { actor: this.#actor });
  }

  async listBackups(clientId: ClientId): Promise<BackupInfo[]> {
    return (await this.#transport.request<{ backups: BackupInfo[] }>('GET', clientPath(clientId, '/backups'))).backups;
  }

  restore(clientId: ClientId, backupId: string): Promise<RestoreResult> {
    return this.#transport.request('POST', clientPath(clientId, '/restore'), { backupId, actor: this.#actor });
  }

  recordErasureRequest(clientId: ClientId, request: { requestId: string; receivedAt?: string | undefined }): Promise<ErasureRequest> {
    return this.#transport.request('POST', clientPath(clientId, '/erasure-requests'), { ...erasureBody(request), actor: this.#actor });
  }

  erase(clientId: ClientId, request: { requestId: string; receivedAt?: string | undefined }): Promise<EraseOutcome> {
    return this.#transport.request('POST', clientPath(clientId, '/erase'), { ...erasureBody(request), actor: this.#actor });
  }

  async erasureRequests(): Promise<ErasureRequest[]> {
    return (await this.#transport.request<{ requests: ErasureRequest[] }>('GET', '/v1/erasure-requests')).requests;
  }

  /** The ops log, or only the entries of one client; `since` and `until` (ISO 8601) bound their times. */
  async opsLog(filter: { client?: string | undefined; since?: string | undefined; until?: string | undefined } = {}): Promise<OpsLogEntry[]> {
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) if (value !== undefined) parameters.set(name, value);
    const query = parameters.size === 0 ? '' : `?${parameters.toString()}`;
    return (await this.#transport.request<{ entries: OpsLogEntry[] }>('GET', `/v1/ops-log${query}`)).entries;
  }

  verifyOpsLog(): Promise<OpsLogVerification> {
    return this.#transport.request('GET', '/v1/ops-log/verify');
  }
}

/** The API as the target of the mailbox consent flow: scopes from the client's config, tokens stored as a secret. */
export function mailboxConnectTarget(api: FleetApiClient): MailboxConnectTarget {
  return {
    consentScopes: async (clientId, provider) => (await api.mailboxConsent(clientId, provider)).scopes,
    storeSecret: async (clientId, name, value) => ({
      version: (await api.setSecret(clientId, name, value)).version,
    }),
  };
}
