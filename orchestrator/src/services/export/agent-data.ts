import { PassThrough } from 'node:stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { AgentControl } from '../../ports/agent-control.ts';
import type { AgentHealthProbe } from '../../ports/agent-health.ts';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { ClientRecord } from '../../ports/registry.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import type { ReopenedNetwork } from './closed-client-network.ts';

/** What the agent hands out for an export (agent-image/src/services/data-export/export-parts.ts). */
export type AgentDataPart = 'audit.jsonl' | 'approvals.jsonl' | 'outbox.jsonl' | 'summaries.jsonl' | 'settings.jsonl' | 'state.jsonl' | 'config.yaml';

/** An open read of the client's volume through agent code; close it when the export is done. */
export interface AgentData {
  /** `running-agent` or `volume-reader` (a one-shot reader container for an agent that does not run). */
  readonly via: 'running-agent' | 'volume-reader';
  part(name: AgentDataPart): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

export interface AgentDataDependencies {
  config: Pick<OrchestratorConfig, 'agent' | 'version'>;
  runtime: ContainerRuntime;
  secrets: SecretStore;
  control: AgentControl;
  health: AgentHealthProbe;
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  logger: Logger;
  /** How long a reader container may take to answer /healthz. Default 30 s. */
  readerStartTimeoutMs?: number;
  /** Brings a deprovisioned client's network back for the reader (closed-client-network.ts); without it, refused. */
  reopenNetwork?: (clientId: ClientId) => Promise<ReopenedNetwork>;
}

/**
 * Opens the client's data for an export. A running agent serves it itself; otherwise (stopped, crashed,
 * killed, deprovisioned within its retention) a reader container of the agent image mounts the volume
 * read-only. Either way the data is decrypted by agent code under a fresh introduction, never by the
 * orchestrator. A locked client's policy (killed) is restored only for the reader's session and locked
 * again on close; a reader's tokens are revoked on close. A deprovisioned client's network comes back for
 * the read and goes again on close.
 */
export async function openAgentData(deps: AgentDataDependencies, client: ClientRecord, signal?: AbortSignal): Promise<AgentData> {
  const clientId = client.id;
  const token = await deps.secrets.readControlToken(clientId);
  if (!token) throw new FleetError('internal', `${clientId} has no control token; provision it again`);
  const closed = client.status === 'deprovisioned';
  if (client.subnet === null && !(closed && deps.reopenNetwork)) {
    throw new FleetError('unavailable', `${clientId} is ${client.status} and its network is gone: its volume cannot be read by an agent; provision it again to export`);
  }
  const reopened = closed && deps.reopenNetwork ? await deps.reopenNetwork(clientId) : null;
  let address = '';
  let via: AgentData['via'] = 'volume-reader';
  let unlocked = false;
  let readerIntroduced = false;
  // Every step runs even when one before it failed: a reader the engine would not remove must not leave a
  // killed client's policy unlocked, its tokens alive or a closed client's network up. The first failure is thrown.
  const close = async (): Promise<void> => {
    const failures: unknown[] = [];
    const step = async (work: () => Promise<unknown>): Promise<void> => {
      await work().catch((error: unknown) => void failures.push(error));
    };
    if (address !== '') await deps.control.request(clientId, address, token, 'POST', '/v1/data-export/session/close').catch(() => undefined);
    if (via === 'volume-reader') await step(() => deps.runtime.volumes.removeHelpers(clientId));
    if (unlocked) await step(() => deps.secrets.lockClient(clientId));
    if (unlocked || (readerIntroduced && closed)) await step(() => deps.secrets.revokeAgentTokens(clientId));
    if (reopened !== null) await step(() => reopened.close());
    if (failures.length > 0) throw failures[0];
  };
  try {
    const vaultAddr = reopened?.vaultAddr ?? (await deps.vaultAddressFor(clientId));
    const state = await deps.runtime.inspectAgent(clientId);
    const running = client.status === 'active' && state?.running === true && state.endpoints !== null;
    const locked = client.status === 'killed' || (closed && (await deps.secrets.isLocked(clientId)));
    if (running && state?.endpoints) {
      via = 'running-agent';
      address = state.endpoints.control;
    } else {
      address = await startReader(deps, clientId, vaultAddr);
      await waitHealthy(deps.health, clientId, address, deps.readerStartTimeoutMs ?? 30_000);
    }
    if (locked) {
      await deps.secrets.unlockClient(clientId);
      unlocked = true;
    }
    const introduction = await deps.secrets.issueAgentIntroduction(clientId);
    readerIntroduced = via === 'volume-reader';
    await deps.control.request(clientId, address, token, 'POST', '/v1/data-export/session', {
      wrappingToken: introduction.wrappingToken,
      vaultAddr,
      creationPath: introduction.creationPath,
    }, 30_000);
  } catch (error) {
    await close().catch((closeError: unknown) => deps.logger.error('closing a failed export session failed', { client: clientId, error: closeError }));
    throw error;
  }
  deps.logger.info('agent data opened for export', { client: clientId, via, closed });
  return {
    via,
    part: (name) => streamPart(deps.control, clientId, address, token, `/v1/data-export/${name}`, signal),
    close,
  };
}

function startReader(deps: AgentDataDependencies, clientId: ClientId, vaultAddr: string): Promise<string> {
  return deps.runtime.volumes.startReader({
    clientId,
    image: deps.config.agent.image,
    user: deps.config.agent.user,
    environment: { AGENT_VERSION: deps.config.version, LOG_LEVEL: 'warn', VAULT_ADDR: vaultAddr },
    limits: {
      memoryBytes: deps.config.agent.memoryBytes,
      nanoCpus: deps.config.agent.nanoCpus,
      pids: deps.config.agent.pids,
      tmpfsBytes: deps.config.agent.tmpfsBytes,
    },
    ociRuntime: deps.config.agent.ociRuntime,
  });
}

/** One part as the agent streams it; `signal` cuts the stream (the agent's connection goes with it). */
async function* streamPart(control: AgentControl, clientId: ClientId, address: string, token: string, path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  signal?.throwIfAborted();
  const sink = new PassThrough();
  const abort = () => sink.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const copied = control.stream(clientId, address, token, path, sink).then(
      () => sink.end(),
      (error: unknown) => sink.destroy(error as Error),
    );
    for await (const chunk of sink) yield chunk as Buffer;
    await copied;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

async function waitHealthy(health: AgentHealthProbe, clientId: ClientId, address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await health.isHealthy(clientId, address)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new FleetError('timeout', `the volume reader at ${address} did not answer within ${Math.round(timeoutMs / 1000)} s`, { retryable: true });
}
