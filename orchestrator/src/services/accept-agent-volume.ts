import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentControl } from '../ports/agent-control.ts';
import type { Clock } from '../ports/clock.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { AuditCheckpoint, Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { resetJournalAnchor } from './backup/journal-anchor-reset.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { checkReason } from './kill-client.ts';

export interface AcceptVolumeDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  secrets: Pick<SecretStore, 'writeSecret' | 'readControlToken' | 'revokeAgentTokens'>;
  control: AgentControl;
  clock: Clock;
  logger: Logger;
  /** Fresh secret introduction of the running agent, waiting until it is ready (introduce-agent.ts). */
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /** No backup, restore or erasure of the volume meanwhile (client-operation-guard.ts). */
  guard: Pick<ClientOperationGuard, 'exclusive'>;
}

export interface AcceptVolumeResult {
  clientId: ClientId;
  /** The orchestrator's audit checkpoint before, and the accepted chain's head that replaced it. */
  previous: AuditCheckpoint | null;
  checkpoint: { seq: number; hash: string };
}

/** The agent's readiness reason for a volume that no longer reaches its recorded journal heads. */
const ROLLED_BACK = 'journal_rolled_back';

/** How long the agent is asked whether it has its volume open before the anchor is touched. */
const READINESS_PROBE_MS = 1500;

/** The command an operator runs (named in the agent's refusal, the runbook and reanchor's answer). */
export const ACCEPT_VOLUME_COMMAND = 'fleet audit accept-volume';

/**
 * Accepts the volume a client's agent refused (readiness `journal_rolled_back`: a restore done by hand,
 * or a false alarm) as it is: writes a reset to its journal anchor in Vault, introduces the agent again
 * so it opens the volume and records its heads, then moves the orchestrator's audit checkpoint to the
 * accepted chain. The agent still verifies its chain by itself: a chain broken by itself stays refused.
 * Only an active client whose agent runs and refused its volume as rolled back; a reason is required; the ops
 * log keeps the checkpoint replaced, and records a failure too.
 */
export async function acceptAgentVolume(deps: AcceptVolumeDependencies, request: { clientId: unknown; reason: unknown; actor: string }): Promise<AcceptVolumeResult> {
  const clientId = parseClientId(request.clientId);
  const reason = checkReason(request.reason);
  await requireActive(deps, clientId);
  return deps.guard.exclusive(clientId, 'accept-volume', async () => {
    try {
      const result = await acceptNow(deps, clientId, reason, request.actor);
      await deps.registry.appendOpsLog({
        actor: request.actor,
        action: 'audit-accept-volume',
        clientId,
        reason,
        outcome: 'success',
        details: { previous: result.previous === null ? null : { seq: result.previous.seq, hash: result.previous.hash, at: result.previous.at }, checkpoint: result.checkpoint },
      });
      deps.logger.warn('refused agent volume accepted: journal anchor reset and audit checkpoint re-anchored', { client: clientId, previousSeq: result.previous?.seq ?? null, seq: result.checkpoint.seq });
      return result;
    } catch (error) {
      await deps.registry
        .appendOpsLog({ actor: request.actor, action: 'audit-accept-volume', clientId, reason, outcome: 'failed', details: { error: (error as Error).message } })
        .catch((logError: unknown) => deps.logger.error('the failed volume acceptance could not be ops-logged', { client: clientId, error: logError }));
      throw error;
    }
  });
}

async function acceptNow(deps: AcceptVolumeDependencies, clientId: ClientId, reason: string, actor: string): Promise<AcceptVolumeResult> {
  const { runtime, control, secrets, registry, clock } = deps;
  const state = await runtime.inspectAgent(clientId);
  if (!state?.running || !state.endpoints) throw new FleetError('unavailable', `the agent of ${clientId} is not running; the reconciler starts it, then run this again`);
  const address = state.endpoints.control;
  const refusal = await notOpenBecause(control, clientId, address);
  if (refusal === null) {
    throw new FleetError('conflict', `the agent of ${clientId} has its volume open: nothing to accept (\`fleet audit reanchor\` moves the orchestrator's checkpoint)`);
  }
  // Only a refusal as rolled back is accepted: an agent still starting, or refused for another reason, is not.
  if (!refusal.includes(ROLLED_BACK)) {
    throw new FleetError('conflict', `the agent of ${clientId} did not refuse its volume as rolled back (${refusal}): nothing to accept`);
  }
  // Read by the agent only at open: the introduction below opens the volume as it is and replaces the reset by its heads.
  // The heads the reset replaces are not read here first (this port never reads a client's secret values):
  // the refused agent holds them, and puts them back itself when the open fails before recording new ones.
  await resetJournalAnchor(secrets, clientId, `accepted by ${actor}: ${reason}`, clock.now());
  try {
    await deps.introduce(clientId, address);
  } catch (error) {
    throw new FleetError(
      isFleetError(error) ? error.code : 'unavailable',
      `${clientId}: the agent did not open its volume (${(error as Error).message}): its audit chain is broken by itself, its volume unreadable, or Vault unreachable; the agent's log says which. ` +
        'The agent puts back the journal heads anchored before when its open failed before recording new ones (its log says so); ' +
        'an agent restarted since the refusal no longer holds them, and the reset then stays: its next open takes the volume as it is',
      { cause: error },
    );
  }
  // A kill that came meanwhile may have revoked the agent's tokens before this introduction minted its own.
  if ((await registry.getClient(clientId))?.status !== 'active') {
    await secrets.revokeAgentTokens(clientId);
    throw new FleetError('conflict', `${clientId} was killed while its volume was being accepted; it stays killed (the volume was opened and its heads anchored; the audit checkpoint was not moved)`);
  }
  const token = await secrets.readControlToken(clientId);
  if (!token) throw new FleetError('internal', `${clientId} has no control token; provision it again`);
  const verification = await control.request<{ ok: boolean; head?: { seq: number; hash: string } | null; break?: { kind: string; seq: number } }>(
    clientId, address, token, 'GET', '/v1/audit/verify', undefined, 120_000,
  );
  if (!verification.ok) throw new FleetError('integrity', `the audit chain of ${clientId} is broken by itself (${verification.break?.kind} at seq ${verification.break?.seq}); the checkpoint was not moved`);
  const head = verification.head;
  if (!head) throw new FleetError('conflict', `${clientId} has no audit record yet: the volume opened, there is no chain to anchor`);
  const previous = await registry.replaceAuditCheckpoint(clientId, { seq: head.seq, hash: head.hash }, clock.now());
  return { clientId, previous, checkpoint: { seq: head.seq, hash: head.hash } };
}

/** Null when the agent answers ready (its volume is open); otherwise what it said (or that it did not answer). */
export async function notOpenBecause(control: Pick<AgentControl, 'waitReady'>, clientId: ClientId, address: string): Promise<string | null> {
  try {
    await control.waitReady(clientId, address, READINESS_PROBE_MS);
    return null;
  } catch (error) {
    // The agent's TLS identity not matching is no answer about its volume.
    if (isFleetError(error) && error.code === 'integrity') throw error;
    return (error as Error).message;
  }
}

async function requireActive(deps: AcceptVolumeDependencies, clientId: ClientId): Promise<void> {
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
  if (record.status !== 'active') {
    throw new FleetError('conflict', `${clientId} is ${record.status}: only an active client's agent is introduced to accept its volume`);
  }
}
