import type { MailProviderKind } from '../../domain/sender-authentication/sender-verdict.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { LlmClient } from '../../ports/llm-client.ts';
import type { Draft, MailProvider } from '../../ports/mail-provider.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import type { SendPipeline } from '../runtime/send-pipeline.ts';
import type { CrmLink } from './crm-link.ts';
import type { MailMemoryBudget } from './mail-memory-budget.ts';
import type { RetryOptions } from './provider-retry.ts';

/** What the stages of the mail loop work with: built once by the loop, shared by every stage. */
export interface LoopDeps {
  readonly context: RuntimeContext;
  readonly pipeline: SendPipeline;
  readonly provider: MailProvider;
  /** Whose Authentication-Results header is trusted (the receiving provider's own). */
  readonly providerKind: MailProviderKind;
  readonly llm: LlmClient;
  /** The client's calendar, read for scheduling replies; null: none. */
  readonly calendar: CalendarProvider | null;
  /** The client's CRM: who the correspondent is (for the drafter), a note after each send; null: none. */
  readonly crm: CrmLink | null;
  /** Backoff for throttled or transient reads, drafts and model calls. */
  readonly retry: RetryOptions;
  /** The workers' shared memory for mail: every download and every message held goes through it. */
  readonly memory: MailMemoryBudget;
  /** Called with each draft created, once it is recorded. */
  readonly onDraftCreated: (messageId: string, draft: Draft) => void;
}
