import { FREE_TEXT_AUTO_SEND_RISK, type ClientConfig } from '@agent-fleet/kernel/client-config';
import type { NewOpsLogEntry, Registry } from '../ports/registry.ts';

/** The ops-log action of a free-text auto-send opt-in. */
export const FREE_TEXT_OPT_IN_ACTION = 'auto-send-free-text-opt-in';

/**
 * The ops-log entries a provisioned config calls for: one per auto-send type the client opted in to
 * free-text auto-send (never the default; see kernel auto-reply-config.ts), naming who accepted the
 * stated risk and when. The agent restates the opt-ins in every daily summary. Pure.
 */
export function freeTextOptInEntries(input: { actor: string; clientId: string; config: Pick<ClientConfig, 'autoReply'> }): NewOpsLogEntry[] {
  return input.config.autoReply.freeTextAutoSend.map((entry) => ({
    actor: input.actor,
    action: FREE_TEXT_OPT_IN_ACTION,
    clientId: input.clientId,
    reason: FREE_TEXT_AUTO_SEND_RISK,
    outcome: 'recorded',
    details: { type: entry.type, acceptedBy: entry.acceptedBy, acceptedAt: entry.acceptedAt },
  }));
}

/** Appends those entries (provisioning calls this once the client is provisioned); returns how many. */
export async function recordFreeTextOptIns(
  registry: Pick<Registry, 'appendOpsLog'>,
  input: { actor: string; clientId: string; config: Pick<ClientConfig, 'autoReply'> },
): Promise<number> {
  const entries = freeTextOptInEntries(input);
  for (const entry of entries) await registry.appendOpsLog(entry);
  return entries.length;
}
