import { createHash } from 'node:crypto';
import { contentHash, type JsonValue } from '../../domain/audit-record.ts';
import { EMAIL_TYPES, type EmailType } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { learnContacts } from '../../domain/policy/policy-state.ts';
import { parseProposedAction, type MessageAction } from '../../domain/policy/proposed-action.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import { ModelOutputError, type EmailForModel, type LlmClient, type TokenUsage } from '../../ports/llm-client.ts';
import { ProviderAuthError, replySubject, type Draft, type MailMessage, type MailProvider } from '../../ports/mail-provider.ts';
import { DEFAULT_BACKOFF } from '../outbox/backoff.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import type { SendPipeline } from '../runtime/send-pipeline.ts';
import { noReplyReason } from './auto-reply-rules.ts';
import { calendarNotes, SCHEDULING_TYPES } from './calendar-notes.ts';
import { llmCostUsd } from './llm-cost.ts';
import { fileMessage } from './message-filing.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';

export interface MailLoopOptions {
  context: RuntimeContext;
  pipeline: SendPipeline;
  provider: MailProvider;
  llm: LlmClient;
  /** The client's calendar, read (never written here) for scheduling replies; null or absent: none. */
  calendar?: CalendarProvider | null;
  /** 'gmail' | 'outlook': the cursor belongs to one provider. */
  providerKind: string;
  /** Called on a provider or model authentication failure; the runtime decides whether to pause. */
  onAuthFailure: (error: ProviderAuthError, where: string) => Promise<void>;
  /** Called with each draft created (the send side remembers it). */
  onDraftCreated?: (draft: Draft) => void;
  /** Messages processed at once. Default 4. */
  concurrency?: number;
  /** Backoff for throttled or transient reads, drafts and model calls. */
  retry?: Partial<RetryOptions>;
}

export interface LoopReport {
  /** New message ids found by the sync. */
  found: number;
  /** Messages that reached a final stage in this tick. */
  finished: number;
  /** Messages left for a later tick after an error. */
  failed: number;
}

/** Model types that never get a reply drafted. */
const NO_REPLY_TYPES = new Set(['spam', 'newsletter']);
/** Below this confidence the model is confused: a human looks instead. */
const MIN_CONFIDENCE = 0.5;
/** A message failing this often for reasons nobody can retry away goes to human review. */
const MAX_FAILURES = 3;
const THREAD_CONTEXT = 3;

/**
 * The agent's work: sync the mailbox (durable cursor), and for each new message, exactly once: audit the
 * read → skip machine/list/own mail → classify → file it (label, and mark read / archive where the
 * config asks) → draft a reply as a real draft, with the client's free/busy for scheduling mail →
 * propose the send to the gate (through the SendPipeline). Email content is untrusted: the reply goes to the sender of the
 * message (never to an address the content or the model names), and only the gate decides.
 */
export class MailLoop {
  private readonly options: MailLoopOptions;
  private readonly context: RuntimeContext;
  private readonly retry: RetryOptions;
  private readonly failures = new Map<string, number>();
  private readonly drafts = new Map<string, Draft>();
  private running: Promise<LoopReport> | null = null;

  constructor(options: MailLoopOptions) {
    this.options = options;
    this.context = options.context;
    this.retry = {
      ...DEFAULT_BACKOFF,
      maxAttempts: 6,
      baseDelayMs: 250,
      sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
      ...options.retry,
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
    const { context } = this;
    const report: LoopReport = { found: 0, finished: 0, failed: 0 };
    if (context.kill.killed || context.state.pause?.reason === 'auth') return report;
    if (context.config.permissions['mail.read'] !== true) return report;
    try {
      report.found = await this.sync();
    } catch (error) {
      if (await this.handleStop(error, 'sync')) return report;
      context.logger.warn('mail sync failed; will retry', { error: describe(error) });
    }
    const sendingPaused = context.state.pause !== null;
    const work = context.state
      .unfinished()
      .filter(({ progress }) => !(sendingPaused && progress.stage === 'waiting_send'))
      .map(({ id }) => id);
    let stop = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!stop && next < work.length) {
        const id = work[next++] as string;
        try {
          await this.process(id);
          this.failures.delete(id);
          const stage = context.state.progress(id)?.stage;
          if (stage !== undefined && stage !== 'waiting_send') report.finished++;
        } catch (error) {
          if (await this.handleStop(error, 'process')) {
            stop = true;
            return;
          }
          report.failed++;
          await this.recordFailure(id, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 4) }, worker));
    return report;
  }

  private async sync(): Promise<number> {
    const { context, options } = this;
    const cursor = context.state.cursor(options.providerKind);
    const changes = await withProviderRetry(() => options.provider.listChangesSince(cursor), this.retry);
    const fresh = changes.messageIds.filter((id) => context.state.progress(id) === undefined);
    const at = context.now().toISOString();
    // Ids are durable before the cursor moves past them: nothing found is ever lost.
    await Promise.all(fresh.map((id) => context.state.setProgress(id, { stage: 'queued', at })));
    if (changes.nextCursor !== cursor) await context.state.setCursor(options.providerKind, changes.nextCursor);
    context.metrics.setLastSync(context.now());
    return fresh.length;
  }

  /** True when the pass must stop: killed, or an authentication failure (handed to the runtime). */
  private async handleStop(error: unknown, where: string): Promise<boolean> {
    if (error instanceof FleetError && error.code === 'killed') return true;
    if (error instanceof ProviderAuthError) {
      await this.options.onAuthFailure(error, where);
      return this.context.state.pause?.reason === 'auth';
    }
    return false;
  }

  private async recordFailure(id: string, error: unknown): Promise<void> {
    const { context } = this;
    if (error instanceof FleetError && error.code === 'not_found' && context.state.progress(id)?.stage === 'queued') {
      await context.state.setProgress(id, { stage: 'skipped', at: context.now().toISOString() });
      return;
    }
    const retryable = error instanceof FleetError && error.retryable;
    const count = (this.failures.get(id) ?? 0) + (retryable ? 0 : 1);
    this.failures.set(id, count);
    context.logger.warn('message processing failed; will retry', { messageId: id, error: describe(error), failures: count });
    if (count >= MAX_FAILURES) {
      this.failures.delete(id);
      await this.toReview(id, 'processing_failed', { error: describe(error).slice(0, 300) });
    }
  }

  private async process(id: string): Promise<void> {
    const { context } = this;
    let progress = context.state.progress(id);
    let message: MailMessage | null = null;
    if (progress === undefined) return;
    if (progress.stage === 'queued') {
      message = await this.read(id);
      progress = context.state.progress(id) as MessageProgress;
    }
    if (progress.stage === 'read') {
      message ??= await this.fetch(id);
      await this.triage(id, message, progress);
      progress = context.state.progress(id) as MessageProgress;
    }
    if (progress.stage === 'drafted') {
      await this.proposeSend(id, progress);
      progress = context.state.progress(id) as MessageProgress;
    } else if (progress.stage === 'waiting_send') {
      await this.retryWaiting(id, progress);
    }
  }

  private fetch(id: string): Promise<MailMessage> {
    this.context.kill.assertAlive('read');
    return withProviderRetry(() => this.options.provider.getMessage(id), this.retry);
  }

  private async read(id: string): Promise<MailMessage> {
    const { context } = this;
    const message = await this.fetch(id);
    const now = context.now();
    const dated = message.date ?? message.receivedAt;
    const ageMs = Math.max(0, now.getTime() - dated.getTime());
    const skip = noReplyReason(message, this.ownAddresses());
    await context.audit.append({
      action_type: 'email_read',
      actor: 'agent',
      target: id,
      parameters: { message_id: id, thread_id: message.threadId, age_seconds: Math.floor(ageMs / 1000), no_reply: skip },
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
      content_hash: contentHash(`${message.subject}\n${message.textBody}`),
    });
    context.metrics.emailsRead();
    context.metrics.dataRead(ageMs);
    context.metrics.action(now, context.config);
    await context.state.setProgress(id, { stage: skip === null ? 'read' : 'skipped', at: now.toISOString() });
    return message;
  }

  private async triage(id: string, message: MailMessage, progress: MessageProgress): Promise<void> {
    const { context, options } = this;
    const sender = (message.from?.address ?? '').trim().toLowerCase();
    const email = forModel(message);
    // Filed before a restart: the classification is kept, so neither the model nor the mailbox is asked twice.
    let type = progress.filed === true ? asEmailType(progress.emailType) : undefined;
    if (type === undefined) {
      const classified = await this.model('classify', id, () => options.llm.classify(email));
      if (classified === null) return;
      type = classified.value.type;
      if (classified.value.confidence < MIN_CONFIDENCE) {
        if (NO_REPLY_TYPES.has(type)) await context.state.setProgress(id, { stage: 'done', at: context.now().toISOString(), emailType: type });
        else await this.toReview(id, 'low_confidence', { email_type: type, confidence: classified.value.confidence });
        return;
      }
      await fileMessage({ context, provider: options.provider, retry: this.retry }, id, type);
      await context.state.setProgress(id, { stage: 'read', at: context.now().toISOString(), emailType: type, filed: true });
    }
    if (NO_REPLY_TYPES.has(type)) {
      await context.state.setProgress(id, { stage: 'done', at: context.now().toISOString(), emailType: type });
      return;
    }
    const thread = await this.threadContext(message);
    const calendar = options.calendar ?? null;
    const notes = SCHEDULING_TYPES.has(type) && calendar !== null ? await calendarNotes({ context, calendar, retry: this.retry }, id) : '';
    const drafted = await this.model('draft', id, () =>
      options.llm.draftReply(email, context.config.styleNotes, {
        senderName: context.config.displayName ?? context.config.client,
        thread,
        notes,
      }),
    );
    if (drafted === null) return;
    const key = replyKey(id);
    const parsed = parseProposedAction({
      kind: 'mail.draft',
      to: [sender],
      subject: replySubject(message.subject),
      body: drafted.value.body,
      emailType: type,
      inReplyTo: id,
    });
    if (!parsed.ok || parsed.action.kind !== 'mail.draft') {
      await this.toReview(id, 'unusable_draft', { issues: parsed.ok ? [] : parsed.issues.slice(0, 3) });
      return;
    }
    const action = parsed.action;
    const decision = context.gate.evaluateParsed(action, context.policyState(), context.now());
    context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
    const base = { message_id: id, idempotency_key: key, email_type: type, subject: action.subject };
    if (decision.decision !== 'allow') {
      const dryRun = decision.reasons.includes('dry_run');
      await context.audit.append({
        action_type: dryRun ? 'email_draft' : 'policy_denied',
        actor: 'agent',
        target: sender,
        parameters: { ...base, kind: 'mail.draft', reasons: decision.reasons },
        approval_status: dryRun ? 'not_required' : 'denied',
        approved_by: null,
        result: dryRun ? 'dry_run' : 'denied',
        content_hash: contentHash(action.body),
      });
      if (!dryRun) {
        await context.state.setProgress(id, { stage: 'done', at: context.now().toISOString(), emailType: type });
        return;
      }
      // Dry run: the whole loop runs, nothing is written to the mailbox; the send is proposed and recorded too.
      await this.proposeDryRunSend(id, key, action, type);
      return;
    }
    context.kill.assertAlive('draft');
    await context.audit.append({
      action_type: 'email_draft',
      actor: 'agent',
      target: sender,
      parameters: base,
      approval_status: 'not_required',
      approved_by: 'policy',
      result: 'intended',
      content_hash: contentHash(action.body),
    });
    const draft = await withProviderRetry(
      () =>
        options.provider.createDraft({ to: action.to, subject: action.subject, body: action.body, inReplyTo: id, idempotencyKey: key }),
      this.retry,
    );
    // Two files, two fsyncs: in parallel.
    await Promise.all([
      context.audit.append({
        action_type: 'email_draft',
        actor: 'agent',
        target: sender,
        parameters: { ...base, draft_id: draft.id },
        approval_status: 'not_required',
        approved_by: 'policy',
        result: 'success',
        content_hash: contentHash(action.body),
      }),
      context.state.setProgress(id, { stage: 'drafted', at: context.now().toISOString(), draftId: draft.id, key, emailType: type }),
    ]);
    context.metrics.draftCreated();
    this.drafts.set(id, draft);
    options.onDraftCreated?.(draft);
  }

  private async proposeDryRunSend(id: string, key: string, draft: MessageAction, emailType: string): Promise<void> {
    const parsed = parseProposedAction({ ...draft, kind: 'mail.send' });
    if (parsed.ok && parsed.action.kind === 'mail.send') {
      await this.options.pipeline.propose(parsed.action, { key, messageId: id, draftId: null });
    }
    await this.context.state.setProgress(id, { stage: 'done', at: this.context.now().toISOString(), emailType });
  }

  private async proposeSend(id: string, progress: MessageProgress): Promise<void> {
    const { context, options } = this;
    const draftId = progress.draftId;
    const key = progress.key ?? replyKey(id);
    if (draftId === undefined) throw new FleetError('integrity', `message ${id} is drafted without a draft id`);
    const draft = this.drafts.get(id) ?? (await withProviderRetry(() => options.provider.getDraft(draftId), this.retry));
    this.drafts.delete(id);
    const parsed = parseProposedAction({
      kind: 'mail.send',
      to: draft.to,
      cc: draft.cc,
      subject: draft.subject,
      body: draft.body,
      ...(progress.emailType === undefined ? {} : { emailType: progress.emailType }),
      inReplyTo: id,
    });
    if (!parsed.ok || parsed.action.kind !== 'mail.send') {
      await this.toReview(id, 'unusable_draft', { issues: parsed.ok ? [] : parsed.issues.slice(0, 3) });
      return;
    }
    await this.learnFromSentMail(parsed.action.to);
    const outcome = await options.pipeline.propose(parsed.action, { key, messageId: id, draftId });
    const at = context.now().toISOString();
    if (outcome === 'waiting') {
      await context.state.setProgress(id, { ...progress, stage: 'waiting_send', at, sendAction: parsed.action as unknown as Record<string, unknown> });
    } else {
      await context.state.setProgress(id, { stage: 'done', at, draftId, key, ...(progress.emailType === undefined ? {} : { emailType: progress.emailType }) });
    }
  }

  private async retryWaiting(id: string, progress: MessageProgress): Promise<void> {
    const { context, options } = this;
    const parsed = parseProposedAction(progress.sendAction);
    if (!parsed.ok || parsed.action.kind !== 'mail.send') {
      await this.toReview(id, 'unusable_draft', {});
      return;
    }
    const outcome = await options.pipeline.propose(parsed.action, {
      key: progress.key ?? replyKey(id),
      messageId: id,
      draftId: progress.draftId ?? null,
    });
    if (outcome !== 'waiting') {
      const { sendAction: _dropped, ...rest } = progress;
      await context.state.setProgress(id, { ...rest, stage: 'done', at: context.now().toISOString() });
    }
  }

  /** Known contacts are those the client wrote to before: asked of the mailbox's sent mail once each. */
  private async learnFromSentMail(addresses: readonly string[]): Promise<void> {
    const { context, options } = this;
    const unknown = addresses.filter((address) => !context.policyState().knownContacts.has(address));
    const learnt: string[] = [];
    for (const address of unknown) {
      if (await withProviderRetry(() => options.provider.hasPreviousCommunicationWith(address), this.retry)) learnt.push(address);
    }
    if (learnt.length > 0) await context.state.setPolicy(learnContacts(context.policyState(), learnt));
  }

  private async threadContext(message: MailMessage): Promise<EmailForModel[]> {
    if (message.inReplyTo === null && message.references.length === 0) return [];
    const thread = await withProviderRetry(() => this.options.provider.getThread(message.threadId), this.retry);
    return thread
      .filter((entry) => entry.id !== message.id)
      .slice(-THREAD_CONTEXT)
      .map(forModel);
  }

  /** One model call: kill check first, retried when throttled, its tokens and cost counted and audited. */
  private async model<T>(purpose: 'classify' | 'draft', id: string, call: () => Promise<{ value: T; usage: TokenUsage }>): Promise<{ value: T; usage: TokenUsage } | null> {
    const { context } = this;
    context.kill.assertAlive('model call');
    try {
      const result = await withProviderRetry(call, this.retry);
      const extra: { [key: string]: JsonValue } =
        purpose === 'classify' ? classificationFacts(result.value) : {};
      await this.auditModelCall(purpose, id, result.usage, 'success', extra);
      return result;
    } catch (error) {
      if (!(error instanceof ModelOutputError)) throw error;
      await this.auditModelCall(purpose, id, error.usage, 'failure', { issues: error.issues.slice(0, 3) });
      await this.toReview(id, 'malformed_model_output', { purpose });
      return null;
    }
  }

  private async auditModelCall(purpose: string, id: string, usage: TokenUsage, result: 'success' | 'failure', extra: { [key: string]: JsonValue }): Promise<void> {
    const { context } = this;
    context.metrics.llmTokens('input', usage.inputTokens);
    context.metrics.llmTokens('output', usage.outputTokens);
    // Not awaited on its own: the audit log writes in order, so the next awaited record (the draft's
    // intent, or the review) is durable only after this one; a failed append fails that one too.
    const appended = context.audit.append({
      action_type: 'llm_call',
      actor: 'agent',
      target: id,
      parameters: {
        purpose,
        message_id: id,
        model: usage.model,
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cost_usd: llmCostUsd(usage),
        ...extra,
      },
      approval_status: 'not_required',
      approved_by: null,
      result,
    });
    appended.catch((error: unknown) => context.logger.error('audit append failed', { error }));
  }

  private async toReview(id: string, reason: string, parameters: { [key: string]: JsonValue }): Promise<void> {
    const { context } = this;
    await context.audit.append({
      action_type: 'review_queued',
      actor: 'agent',
      target: id,
      parameters: { message_id: id, reason, ...parameters },
      approval_status: 'pending',
      approved_by: null,
      result: 'pending',
    });
    await context.state.setProgress(id, { stage: 'review', at: context.now().toISOString() });
  }

  private ownAddresses(): Set<string> {
    const own = new Set<string>();
    if (this.context.config.mailbox !== undefined) own.add(this.context.config.mailbox);
    return own;
  }
}

/** The idempotency key of the reply to a message: the draft's header and the outbox key. */
export function replyKey(messageId: string): string {
  return `re-${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}`;
}

function asEmailType(value: string | undefined): EmailType | undefined {
  return (EMAIL_TYPES as readonly string[]).includes(value ?? '') ? (value as EmailType) : undefined;
}

function forModel(message: MailMessage): EmailForModel {
  return {
    from: message.from?.address ?? '',
    to: message.to.map((address) => address.address),
    cc: message.cc.map((address) => address.address),
    subject: message.subject,
    date: (message.date ?? message.receivedAt).toISOString(),
    body: message.textBody,
  };
}

function classificationFacts(value: unknown): { [key: string]: JsonValue } {
  const classification = value as { type?: unknown; confidence?: unknown };
  return {
    email_type: typeof classification.type === 'string' ? classification.type : null,
    confidence: typeof classification.confidence === 'number' ? classification.confidence : null,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
