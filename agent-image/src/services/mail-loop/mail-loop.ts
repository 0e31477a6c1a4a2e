import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { MailProviderKind } from '../../domain/sender-authentication/sender-verdict.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { LlmClient } from '../../ports/llm-client.ts';
import { GrantReplacedError, ProviderAuthError, UnreadableMessageError, type Draft, type MailMessage, type MailProvider } from '../../ports/mail-provider.ts';
import { DEFAULT_BACKOFF } from '../outbox/backoff.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import type { SendPipeline } from '../runtime/send-pipeline.ts';
import { crmRound, type CrmLink } from './crm-link.ts';
import { syncMailbox } from './cursor-sync.ts';
import { draftReply } from './draft-reply.ts';
import { ModelBudgetExhaustedError } from './model-budget.ts';
import { errorSummary } from './error-summary.ts';
import type { LoopDeps } from './loop-deps.ts';
import { MailMemoryBudget } from './mail-memory-budget.ts';
import { proposeSend, retryWaitingSend } from './propose-send.ts';
import type { RetryOptions } from './provider-retry.ts';
import { fetchMessage, readMessage } from './read-message.ts';
import { toReview } from './review-queue.ts';
import { triageMessage } from './triage-message.ts';
import { BatchForecast, readAhead, workBatch, type PassCandidate, type PassLimits } from './pass-plan.ts';
import { runPool, type PoolRun } from './worker-pool.ts';

export { replyKey } from './reply-key.ts';

export interface MailLoopOptions {
  context: RuntimeContext;
  pipeline: SendPipeline;
  provider: MailProvider;
  llm: LlmClient;
  /** The client's calendar, read (never written here) for scheduling replies; null or absent: none. */
  calendar?: CalendarProvider | null;
  /** The client's CRM (lookups for the drafter, notes after sends); null or absent: none. */
  crm?: CrmLink | null;
  /** The cursor belongs to one provider, and only its Authentication-Results header is trusted. */
  providerKind: MailProviderKind;
  /** Called on a provider or model authentication failure; the runtime decides whether to pause. */
  onAuthFailure: (error: ProviderAuthError, where: string) => Promise<void>;
  /** Called with each draft created (the send side remembers it). */
  onDraftCreated?: (draft: Draft) => void;
  /** Messages processed at once. Default 4. */
  concurrency?: number;
  /**
   * The memory for mail the workers share (downloads one at a time, held messages bounded); default a
   * budget of its own. Pass one to share it with other readers of mail in the process.
   */
  memory?: MailMemoryBudget;
  /** Backoff for throttled or transient reads, drafts and model calls. */
  retry?: Partial<RetryOptions>;
  /**
   * The most messages one pass works on (model calls, drafts, sends), taken in turns by sender; the rest
   * wait for later passes, so a flood never holds up the rest of the agent's round. Default 50.
   */
  maxMessagesPerPass?: number;
  /**
   * When more messages wait than a pass works on: the most queued ones a pass reads ahead (fetched and
   * audited, no model call) to learn their senders, so one sender's backlog does not hide another's mail.
   * Default 500.
   */
  maxReadsPerPass?: number;
}

export interface LoopReport {
  /** True when the pass synced the mailbox (false when it stopped before, or the sync failed). */
  synced: boolean;
  /** New message ids found by the sync. */
  found: number;
  /** Messages that reached a final stage in this tick. */
  finished: number;
  /** Messages left for a later tick after an error. */
  failed: number;
  /**
   * Messages the pass left waiting for a later one because of its bounds (maxMessagesPerPass): 0 when it
   * worked all it could, or stopped early (killed, paused for authentication, connection dropped).
   */
  deferred: number;
}

/** A message failing this often for reasons nobody can retry away goes to human review. */
const MAX_FAILURES = 3;
/**
 * Passes in which a message failed with a retryable error while other messages got through, before it goes
 * to review: such a message (a model call that always answers 500 for it) is not an outage, and retried
 * every round for ever it would hold a worker each time. Passes where nothing got through do not count.
 */
const MAX_RETRYABLE_FAILURES = 10;
const DEFAULT_MESSAGES_PER_PASS = 50;
const DEFAULT_READS_PER_PASS = 500;

/** What the workers of one pass share: its report, the messages that failed in it, and which of them retryably. */
interface PassTally {
  report: LoopReport;
  failed: Set<string>;
  retried: Map<string, unknown>;
}

/**
 * The agent's work: sync the mailbox (durable cursor), and for each new message, exactly once: audit the
 * read → skip machine/list/own mail → classify → file it (label, and mark read / archive where the
 * config asks) → draft a reply as a real draft, with the client's free/busy for scheduling mail →
 * propose the send to the gate (through the SendPipeline), with the calendar event a scheduling
 * confirmation agrees to; the CRM names the correspondent to the drafter and gets a note after each send
 * (crm-link.ts). Email content is untrusted: the reply goes to
 * the sender of the message (never to an address the content or the model names), and only the gate
 * decides. Each stage is its own module taking and returning the message's progress; this class runs
 * them over the unfinished messages and decides what an error means.
 */
export class MailLoop {
  private readonly options: MailLoopOptions;
  private readonly context: RuntimeContext;
  private readonly deps: LoopDeps;
  private readonly failures = new Map<string, number>();
  private readonly retryableFailures = new Map<string, number>();
  /** Drafts created in this process, handed to the send stage without reading them back. */
  private readonly drafts = new Map<string, Draft>();
  private running: Promise<LoopReport> | null = null;
  /**
   * Messages read ahead in the pass in flight that its batch may work, as read (held in the shared memory
   * for mail until worked or released): each message is fetched once per pass.
   */
  private readonly readAheadKept = new Map<string, MailMessage>();

  constructor(options: MailLoopOptions) {
    this.options = options;
    this.context = options.context;
    const retry: RetryOptions = {
      ...DEFAULT_BACKOFF,
      maxAttempts: 6,
      baseDelayMs: 250,
      sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
      ...options.retry,
    };
    this.deps = {
      context: options.context,
      pipeline: options.pipeline,
      provider: options.provider,
      providerKind: options.providerKind,
      llm: options.llm,
      calendar: options.calendar ?? null,
      crm: options.crm ?? null,
      retry,
      memory: options.memory ?? new MailMemoryBudget(),
      onDraftCreated: (messageId, draft) => {
        this.drafts.set(messageId, draft);
        options.onDraftCreated?.(draft);
      },
    };
  }

  /** One sync and processing pass; concurrent calls share the pass in flight. */
  tick(): Promise<LoopReport> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<LoopReport> {
    const { context, deps, options } = this;
    const report: LoopReport = { synced: false, found: 0, finished: 0, failed: 0, deferred: 0 };
    if (context.kill.killed || context.state.pause?.reason === 'auth') return report;
    // CRM work first: a reconnect lifts its pause, and notes owed for mail sent since are written.
    if (deps.crm !== null) await crmRound(deps.crm, context);
    if (context.config.permissions['mail.read'] !== true) return report;
    try {
      report.found = await syncMailbox({ context, provider: deps.provider, providerKind: options.providerKind, retry: deps.retry });
      report.synced = true;
    } catch (error) {
      if (await this.handleStop(error, 'sync')) return report;
      context.logger.warn('mail sync failed; will retry', { error });
    }
    const tally: PassTally = { report, failed: new Set(), retried: new Map() };
    const limits: PassLimits = {
      maxMessages: Math.max(1, Math.floor(options.maxMessagesPerPass ?? DEFAULT_MESSAGES_PER_PASS)),
      maxReads: Math.max(0, Math.floor(options.maxReadsPerPass ?? DEFAULT_READS_PER_PASS)),
    };
    try {
      await this.work(limits, tally);
    } finally {
      // What the batch did not take (a stop, a message out of the batch after all) is given back.
      for (const id of this.readAheadKept.keys()) deps.memory.release(id);
      this.readAheadKept.clear();
    }
    if (report.finished > 0) await this.countRetryableFailures(tally.retried);
    return report;
  }

  /** The pass's work: the read ahead when more messages wait than the batch takes, then the batch. */
  private async work(limits: PassLimits, tally: PassTally): Promise<void> {
    const { report } = tally;
    const candidates = this.candidates();
    const ahead = readAhead(candidates, limits);
    if (ahead.length > 0) {
      const reading = new Set(ahead);
      const forecast = new BatchForecast(candidates.filter(({ id }) => !reading.has(id)), limits.maxMessages);
      const { stopped } = await this.runBatch(ahead, tally, (id) => this.readAhead(id, report, forecast));
      if (stopped) return;
    }
    // A message that failed its read ahead is not tried again in the same pass (one failure per pass).
    const waiting = this.candidates().filter(({ id }) => !tally.failed.has(id));
    const batch = workBatch(waiting, limits.maxMessages);
    const inBatch = new Set(batch);
    for (const id of this.readAheadKept.keys()) {
      if (inBatch.has(id)) continue;
      this.readAheadKept.delete(id);
      this.deps.memory.release(id);
    }
    const { stopped } = await this.runBatch(batch, tally, async (id) => {
      const progress = await this.process(id);
      if (progress !== undefined && progress.stage !== 'waiting_send') report.finished++;
    });
    if (!stopped) report.deferred = waiting.length - batch.length;
  }

  /** The messages waiting for work now, oldest first, less those that must wait (sending paused, model budget spent). */
  private candidates(): PassCandidate[] {
    const { state, modelBudget } = this.context;
    const sendingPaused = state.pause !== null;
    // Past the day's model budget, messages still to be read or drafted wait (each would only be fetched again).
    const modelWaits = modelBudget.exhausted();
    return state
      .unfinished()
      .filter(({ progress }) => !(sendingPaused && progress.stage === 'waiting_send'))
      .filter(({ progress }) => !(modelWaits && (progress.stage === 'queued' || progress.stage === 'read')));
  }

  /** Runs `run` over the ids on the workers; a failure is judged as the loop judges every failure. */
  private runBatch(ids: readonly string[], tally: PassTally, run: (id: string) => Promise<void>): Promise<PoolRun> {
    return runPool(ids, {
      concurrency: Math.max(1, this.options.concurrency ?? 4),
      run: async (id) => {
        await run(id);
        this.failures.delete(id);
        this.retryableFailures.delete(id);
      },
      onError: async (error, id) => {
        if (await this.handleStop(error, 'process')) return 'stop';
        // The message waits for the next budget day: not a failure of its own.
        if (error instanceof ModelBudgetExhaustedError) return 'continue';
        tally.report.failed++;
        tally.failed.add(id);
        if (error instanceof FleetError && error.retryable) tally.retried.set(id, error);
        await this.recordFailure(id, error);
        return 'continue';
      },
    });
  }

  /**
   * The read stage alone of a queued message (learns its sender); a message it closes counts as finished.
   * The message read is kept for the batch when it may be in it and the memory for mail has room.
   */
  private async readAhead(id: string, report: LoopReport, forecast: BatchForecast): Promise<void> {
    if (this.context.state.progress(id)?.stage !== 'queued') return;
    const { memory } = this.deps;
    let kept = false;
    try {
      const { message, progress } = await readMessage(this.deps, id);
      if (progress.stage !== 'read') report.finished++;
      else if (forecast.join(progress) && memory.keep(id)) {
        this.readAheadKept.set(id, message);
        kept = true;
      }
    } finally {
      if (!kept) memory.release(id);
    }
  }

  /** Messages that failed retryably in a pass where others got through: past the limit, to review. */
  private async countRetryableFailures(retried: ReadonlyMap<string, unknown>): Promise<void> {
    for (const [id, error] of retried) {
      const count = (this.retryableFailures.get(id) ?? 0) + 1;
      this.retryableFailures.set(id, count);
      if (count < MAX_RETRYABLE_FAILURES) continue;
      this.retryableFailures.delete(id);
      this.failures.delete(id);
      await toReview(this.context, id, 'processing_failed', { error: errorSummary(error), retryable: true, passes: count });
    }
  }

  /** True when the pass must stop: killed, or an authentication failure (handed to the runtime). */
  private async handleStop(error: unknown, where: string): Promise<boolean> {
    if (error instanceof FleetError && error.code === 'killed') return true;
    if (error instanceof ProviderAuthError) {
      await this.options.onAuthFailure(error, where);
      // A replaced grant drops this connection: nothing more of the pass can reach the provider through it.
      return error instanceof GrantReplacedError || this.context.state.pause?.reason === 'auth';
    }
    return false;
  }

  private async recordFailure(id: string, error: unknown): Promise<void> {
    const { context } = this;
    if (error instanceof FleetError && error.code === 'not_found' && context.state.progress(id)?.stage === 'queued') {
      await context.state.setProgress(id, { stage: 'skipped', at: context.now().toISOString() });
      return;
    }
    // Reading it again gives the same answer: left for a person now, not after two more downloads.
    if (error instanceof UnreadableMessageError) {
      this.failures.delete(id);
      await toReview(context, id, 'processing_failed', { error: errorSummary(error), unreadable: true });
      return;
    }
    const retryable = error instanceof FleetError && error.retryable;
    const count = (this.failures.get(id) ?? 0) + (retryable ? 0 : 1);
    this.failures.set(id, count);
    context.logger.warn('message processing failed; will retry', { messageId: id, error, failures: count });
    if (count >= MAX_FAILURES) {
      this.failures.delete(id);
      await toReview(context, id, 'processing_failed', { error: errorSummary(error) });
    }
  }

  /** Runs the message through the stages from where it stands; returns where it ends up. The message it read is given back after. */
  private async process(id: string): Promise<MessageProgress | undefined> {
    try {
      return await this.stages(id);
    } finally {
      this.deps.memory.release(id);
    }
  }

  /** The message read ahead for this item in this pass, if it was kept (its memory is released with the item's). */
  private takeReadAhead(id: string): MailMessage | undefined {
    const message = this.readAheadKept.get(id);
    this.readAheadKept.delete(id);
    return message;
  }

  private async stages(id: string): Promise<MessageProgress | undefined> {
    const { deps } = this;
    let progress = this.context.state.progress(id);
    let message: MailMessage | null = null;
    if (progress === undefined) return undefined;
    if (progress.stage === 'queued') ({ message, progress } = await readMessage(deps, id));
    if (progress.stage === 'read') {
      message ??= this.takeReadAhead(id) ?? (await fetchMessage(deps, id));
      progress = await triageMessage(deps, id, message, progress);
      if (progress.stage === 'read') progress = await draftReply(deps, id, message, progress);
    }
    if (progress.stage === 'drafted') {
      const created = this.drafts.get(id);
      this.drafts.delete(id);
      return proposeSend(deps, id, progress, created);
    }
    if (progress.stage === 'waiting_send') return retryWaitingSend(deps, id, progress);
    return progress;
  }
}
