import type { MailProvider } from '../../ports/mail-provider.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';

export interface CursorSyncDeps {
  context: RuntimeContext;
  provider: MailProvider;
  /** 'gmail' | 'outlook': the cursor belongs to one provider. */
  providerKind: string;
  retry: RetryOptions;
}

/**
 * Asks the mailbox what changed since the durable cursor, queues the message ids not seen before, then
 * moves the cursor. Returns how many ids were queued.
 */
export async function syncMailbox(deps: CursorSyncDeps): Promise<number> {
  const { context, provider, providerKind, retry } = deps;
  const cursor = context.state.cursor(providerKind);
  const changes = await withProviderRetry(() => provider.listChangesSince(cursor), retry);
  const fresh = changes.messageIds.filter((id) => context.state.progress(id) === undefined);
  const at = context.now().toISOString();
  // Ids are durable before the cursor moves past them: nothing found is ever lost.
  await Promise.all(fresh.map((id) => context.state.setProgress(id, { stage: 'queued', at })));
  if (changes.nextCursor !== cursor) await context.state.setCursor(providerKind, changes.nextCursor);
  context.metrics.setLastSync(context.now());
  return fresh.length;
}
