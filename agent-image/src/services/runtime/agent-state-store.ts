import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';
import type { InboundFacts } from '../../domain/auto-reply/inbound-facts.ts';
import type { FreeSlot } from '../../domain/auto-reply/slot-validators.ts';
import {
  emptyPolicyState,
  parsePolicyState,
  serialisePolicyState,
  type PolicyState,
  type PolicyStateFile,
} from '../../domain/policy/policy-state.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { EncryptedJournal } from './encrypted-journal.ts';

/** Why sending (or everything, for `auth`) is paused; cleared by `/v1/resume` or, for rate limits, the next window. */
export type PauseReason = 'rate_limit' | 'auth';
export interface PauseState {
  reason: PauseReason;
  /** ISO 8601. */
  since: string;
  /** What caused it (e.g. `send refused: token revoked`); absent in pauses written before it was kept. */
  detail?: string;
}

/**
 * Where one inbound message stands. Lifecycle: queued → read → drafted → done, or → review (model
 * confusion, a human looks) / skipped (bulk, list, our own mail) / waiting_send (the gate said wait:
 * paused or rate-limited; re-evaluated on resume).
 */
export type MessageStage = 'queued' | 'read' | 'drafted' | 'waiting_send' | 'done' | 'review' | 'skipped';
export const TERMINAL_STAGES: ReadonlySet<MessageStage> = new Set(['done', 'review', 'skipped']);

export interface MessageProgress {
  stage: MessageStage;
  /** ISO 8601 of the last change. */
  at: string;
  draftId?: string;
  /** Idempotency key of the reply (draft header and outbox key). */
  key?: string;
  /** The model's classification, kept so a restart does not ask again. */
  emailType?: string;
  /** The proposed send, kept while it waits for the gate. */
  sendAction?: Record<string, unknown>;
  /** Labelled / filed after classification, so a restart never files (or classifies) it again. */
  filed?: boolean;
  /** What code established when the message was read (sender verdict, injection signals); kept for the gate. */
  inbound?: InboundFacts;
  /** The drafter's template choice (untrusted) and the trusted facts the gate renders it again from. */
  template?: StoredTemplateReply;
  /** Why a message in `review` was parked there (malformed_model_output, unusable_draft, low_confidence, …). */
  reviewReason?: string;
  /**
   * The subject of a message in `review`, as its portal entry shows it (one bounded line: review-queue.ts),
   * so the client's admin can find it in the mailbox; '' when it had none. Absent when parked without it
   * (before it was kept, or parked before it was read). Client content: never logged or audited.
   */
  reviewSubject?: string;
  /**
   * Set when a human let the agent try the message again after review: the reason it had been parked for.
   * `setProgress` keeps it through every later stage, so a second park is final (it cannot be retried again).
   */
  reviewRetriedFrom?: string;
  /** How it left the review queue when it is `done` from there: a human dealt with it, or the queue overflowed. */
  reviewOutcome?: ReviewOutcome;
  /** Its send waited when the kill switch was pulled: after the revive it goes only with a human's approval. */
  heldByKill?: boolean;
}

/** A template choice as kept for the gate: the model's choice and the facts (TemplateFacts) it is checked against. */
export interface StoredTemplateReply {
  choice: unknown;
  facts: { originalSubject: string; nameSources: (string | null)[]; freeSlots: FreeSlot[] };
}

/** How a message left the review queue other than by a retry. */
export type ReviewOutcome = 'handled' | 'overflowed';

/** A message parked for a human, as the control API lists it: its subject line at most, never its body. */
export interface ReviewEntry {
  messageId: string;
  reason: string;
  /** ISO 8601: when it was parked. */
  since: string;
  /** The reason of the first park when a human already let the agent try again (no second retry); else null. */
  retriedFrom: string | null;
  /** The sender's address when the agent had read it (the portal shows it, as an approval's page does); else null. */
  sender: string | null;
  /** The subject as kept when it was parked ('' when it had none); null when it was not recorded. */
  subject: string | null;
}

/** The longest review subject the state reads back, in UTF-16 units (review-queue.ts keeps far less). */
const MAX_REVIEW_SUBJECT_UNITS = 1000;

/** The review queue as the control API serves it (`GET /v1/review`). */
export interface ReviewQueueSource {
  /** Messages the agent parked for a human, oldest first, with the reason and subject line; never their body. */
  reviewQueue(): ReviewEntry[];
}

const progressSchema = z
  .object({
    stage: z.enum(['queued', 'read', 'drafted', 'waiting_send', 'done', 'review', 'skipped']),
    at: z.string().max(64),
    draftId: z.string().max(2000).optional(),
    key: z.string().max(200).optional(),
    emailType: z.string().max(64).optional(),
    sendAction: z.record(z.string(), z.unknown()).optional(),
    heldByKill: z.boolean().optional(),
    filed: z.boolean().optional(),
    inbound: z
      .object({
        sender: z.string().max(1000),
        senderAuthenticated: z.boolean(),
        authReason: z.string().max(64),
        knownContact: z.boolean(),
        injectionSignals: z.array(z.string().max(64)).max(32),
        thread: z.string().min(1).max(2000).optional(),
        receivedAt: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    template: z
      .object({
        choice: z.unknown(),
        facts: z
          .object({
            originalSubject: z.string().max(10_000),
            nameSources: z.array(z.string().max(1000).nullable()).max(8),
            freeSlots: z.array(z.object({ start: z.string().max(64), end: z.string().max(64) }).strict()).max(64),
          })
          .strict(),
      })
      .strict()
      .optional(),
    reviewReason: z.string().max(64).optional(),
    reviewSubject: z.string().max(MAX_REVIEW_SUBJECT_UNITS).optional(),
    reviewRetriedFrom: z.string().max(64).optional(),
    reviewOutcome: z.enum(['handled', 'overflowed']).optional(),
  })
  .strict();

const eventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('policy'), state: z.unknown() }).strict(),
  z
    .object({
      t: z.literal('pause'),
      pause: z.object({ reason: z.enum(['rate_limit', 'auth']), since: z.string().max(64), detail: z.string().max(300).optional() }).strict().nullable(),
    })
    .strict(),
  z.object({ t: z.literal('cursor'), provider: z.string().max(32), cursor: z.string().max(8192).nullable() }).strict(),
  z.object({ t: z.literal('msg'), id: z.string().min(1).max(2000), progress: progressSchema }).strict(),
]);
type StateEvent = z.infer<typeof eventSchema>;

const KEEP_FINISHED = 5000;

/**
 * The agent's own durable state, encrypted in the client's volume (`state/state.log`): the policy state
 * (known contacts, send history), the pause, the sync cursor and each message's progress, so that a
 * restart resumes where it stopped and never processes a message twice.
 */
export class AgentStateStore {
  private readonly journal: EncryptedJournal<StateEvent>;
  private policyState: PolicyState;
  private pauseState: PauseState | null;
  private cursorState: { provider: string; cursor: string | null } | null;
  private readonly messages: Map<string, MessageProgress>;
  /** One read-check-write of the review queue at a time (a resolution and an overflow of one entry never interleave). */
  private readonly reviewChanges = new SerialQueue();

  private constructor(journal: EncryptedJournal<StateEvent>, events: StateEvent[]) {
    this.journal = journal;
    const folded = fold(events);
    this.policyState = folded.policy;
    this.pauseState = folded.pause;
    this.cursorState = folded.cursor;
    this.messages = folded.messages;
  }

  static async open(options: { directory: string; keys: KeyRing; now?: () => Date }): Promise<AgentStateStore> {
    const { journal, events } = await EncryptedJournal.open<StateEvent>({
      directory: options.directory,
      file: 'state.log',
      purpose: 'state',
      keys: options.keys,
      parse: (value) => {
        const parsed = eventSchema.safeParse(value);
        if (!parsed.success) throw new FleetError('integrity', 'state.log holds an event of an unknown shape');
        return parsed.data;
      },
      snapshot: (events) => snapshotOf(fold(events)),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    return new AgentStateStore(journal, events);
  }

  get policy(): PolicyState {
    return this.policyState;
  }

  get pause(): PauseState | null {
    return this.pauseState;
  }

  /** The sync cursor of `provider`; null when never synced or the provider changed. */
  cursor(provider: string): string | null {
    return this.cursorState?.provider === provider ? this.cursorState.cursor : null;
  }

  progress(id: string): MessageProgress | undefined {
    return this.messages.get(id);
  }

  /** The message whose reply carries this idempotency key, while the store still keeps it. */
  messageWithKey(key: string): { id: string; progress: MessageProgress } | undefined {
    for (const [id, progress] of this.messages) if (progress.key === key) return { id, progress };
    return undefined;
  }

  /** Messages not finished yet, oldest first. */
  unfinished(): { id: string; progress: MessageProgress }[] {
    const result: { id: string; progress: MessageProgress }[] = [];
    for (const [id, progress] of this.messages) if (!TERMINAL_STAGES.has(progress.stage)) result.push({ id, progress });
    return result;
  }

  /** Messages parked for a human, oldest first. */
  inReview(): ReviewEntry[] {
    const result: ReviewEntry[] = [];
    for (const [id, progress] of this.messages) {
      if (progress.stage !== 'review') continue;
      result.push({
        messageId: id,
        reason: progress.reviewReason ?? 'unknown',
        since: progress.at,
        retriedFrom: progress.reviewRetriedFrom ?? null,
        sender: progress.inbound?.sender ?? null,
        subject: progress.reviewSubject ?? null,
      });
    }
    return result.sort((a, b) => a.since.localeCompare(b.since));
  }

  /**
   * Runs `task` (a read-check-write of the review queue: mail-loop/review-queue.ts) after every one given
   * before has settled, so two of them never interleave on this state.
   */
  changeReviewQueue<T>(task: () => Promise<T>): Promise<T> {
    return this.reviewChanges.run(task);
  }

  countByStage(): Record<MessageStage, number> {
    const counts: Record<MessageStage, number> = { queued: 0, read: 0, drafted: 0, waiting_send: 0, done: 0, review: 0, skipped: 0 };
    for (const progress of this.messages.values()) counts[progress.stage]++;
    return counts;
  }

  /** Replaces the policy state in memory at once (so concurrent gate calls see it) and durably. */
  setPolicy(state: PolicyState): Promise<void> {
    this.policyState = state;
    return this.journal.append({ t: 'policy', state: serialisePolicyState(state) });
  }

  setPause(pause: PauseState | null): Promise<void> {
    this.pauseState = pause;
    this.policyState = { ...this.policyState, paused: pause !== null };
    return this.journal.append({ t: 'pause', pause });
  }

  setCursor(provider: string, cursor: string | null): Promise<void> {
    this.cursorState = { provider, cursor };
    return this.journal.append({ t: 'cursor', provider, cursor });
  }

  /** Records where a message stands; a retry mark it had (`reviewRetriedFrom`) stays on it. */
  setProgress(id: string, progress: MessageProgress): Promise<void> {
    const retriedFrom = this.messages.get(id)?.reviewRetriedFrom;
    const kept = retriedFrom === undefined || progress.reviewRetriedFrom !== undefined ? progress : { ...progress, reviewRetriedFrom: retriedFrom };
    this.messages.delete(id);
    this.messages.set(id, kept);
    return this.journal.append({ t: 'msg', id, progress: kept });
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

function fold(events: StateEvent[]): {
  policy: PolicyState;
  pause: PauseState | null;
  cursor: { provider: string; cursor: string | null } | null;
  messages: Map<string, MessageProgress>;
} {
  let policy = emptyPolicyState();
  let pause: PauseState | null = null;
  let cursor: { provider: string; cursor: string | null } | null = null;
  const messages = new Map<string, MessageProgress>();
  for (const event of events) {
    switch (event.t) {
      case 'policy': {
        const parsed = parsePolicyState(event.state);
        if (!parsed.ok) throw new FleetError('integrity', `state.log: invalid policy state (${parsed.issues.slice(0, 3).join('; ')})`);
        policy = parsed.state;
        break;
      }
      case 'pause':
        pause = event.pause;
        break;
      case 'cursor':
        cursor = { provider: event.provider, cursor: event.cursor };
        break;
      case 'msg':
        messages.delete(event.id);
        messages.set(event.id, stripUndefined(event.progress));
        break;
    }
  }
  // The kill flag lives in its own file; the pause is the journal's own event.
  policy = { ...policy, killed: false, paused: pause !== null };
  return { policy, pause, cursor, messages };
}

function stripUndefined(progress: z.infer<typeof progressSchema>): MessageProgress {
  const result: MessageProgress = { stage: progress.stage, at: progress.at };
  if (progress.draftId !== undefined) result.draftId = progress.draftId;
  if (progress.key !== undefined) result.key = progress.key;
  if (progress.emailType !== undefined) result.emailType = progress.emailType;
  if (progress.sendAction !== undefined) result.sendAction = progress.sendAction;
  if (progress.filed !== undefined) result.filed = progress.filed;
  if (progress.inbound !== undefined) result.inbound = progress.inbound as InboundFacts;
  if (progress.template !== undefined) result.template = progress.template;
  if (progress.reviewReason !== undefined) result.reviewReason = progress.reviewReason;
  if (progress.reviewSubject !== undefined) result.reviewSubject = progress.reviewSubject;
  if (progress.reviewRetriedFrom !== undefined) result.reviewRetriedFrom = progress.reviewRetriedFrom;
  if (progress.reviewOutcome !== undefined) result.reviewOutcome = progress.reviewOutcome;
  if (progress.heldByKill !== undefined) result.heldByKill = progress.heldByKill;
  return result;
}

function snapshotOf(state: ReturnType<typeof fold>): StateEvent[] {
  const events: StateEvent[] = [{ t: 'policy', state: serialisePolicyState(state.policy) satisfies PolicyStateFile }];
  events.push({ t: 'pause', pause: state.pause });
  if (state.cursor !== null) events.push({ t: 'cursor', ...state.cursor });
  const entries = [...state.messages];
  // Messages in review stay until a human resolves them (or the queue's bound takes the oldest out, audited:
  // mail-loop/review-queue.ts); only the other finished ones, resolved reviews included, are dropped.
  const finished = entries.filter(([, progress]) => TERMINAL_STAGES.has(progress.stage) && progress.stage !== 'review');
  const dropped = new Set(finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)).map(([id]) => id));
  for (const [id, progress] of entries) if (!dropped.has(id)) events.push({ t: 'msg', id, progress });
  return events;
}
