import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { modelBudgetReached } from '../../domain/audit-events-model.ts';
import type { AuditRecord } from '../../domain/audit-record.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { CallCeiling, TokenUsage } from '../../ports/llm-client.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { localMidnight } from '../daily-summary/summary-for-date.ts';
import { modelBudgetNotice, type PauseNotice } from '../runtime/pause-notices.ts';
import { llmCostUsd } from './llm-cost.ts';
import { ModelCallLedger } from './model-call-ledger.ts';

const DAY_MS = 86_400_000;

/**
 * The day's model budget is spent (or the calls in flight hold the rest of it): this call was not made.
 * The message is not at fault and keeps its place; model work resumes at `resumesAt` (the client's next
 * local midnight) or when the budget is raised. Not retryable now: waiting a few seconds changes nothing.
 */
export class ModelBudgetExhaustedError extends FleetError {
  readonly resumesAt: Date;

  constructor(day: string, resumesAt: Date) {
    super('busy', `the model budget of ${day} is spent; model work waits until ${resumesAt.toISOString()}`, { retryable: false });
    this.name = 'ModelBudgetExhaustedError';
    this.resumesAt = resumesAt;
  }
}

/** One request could cost more than the whole daily budget: it would never be made, so a human looks instead. */
export class ModelCallOverBudgetError extends FleetError {
  readonly ceilingUsd: number;

  constructor(ceilingUsd: number, limitUsd: number) {
    super('invalid_input', `one model call could cost ${ceilingUsd} USD, more than the daily budget of ${limitUsd} USD`, { retryable: false });
    this.name = 'ModelCallOverBudgetError';
    this.ceilingUsd = ceilingUsd;
  }
}

/** Spend held for a request in flight, at its ceiling, until its real usage is known. */
export interface Reservation {
  readonly day: BudgetDay;
  readonly micros: number;
}

/** One local day of the client's spend. */
interface BudgetDay {
  /** `<time zone>|<YYYY-MM-DD>`: a new time zone starts a new count, read again from the log. */
  readonly key: string;
  readonly date: string;
  readonly timezone: string;
  /** Calls settled from this instant on are counted here; earlier ones are read from the audit log. */
  readonly countedFrom: number;
  // Amounts in millionths of a dollar (the precision of a recorded cost): integers add up exactly.
  /** Spend of this day's `llm_call` records written before `countedFrom` (e.g. before a restart). */
  audited: number;
  /** Spend settled in this process since `countedFrom`. */
  settled: number;
  reserved: number;
  /** The limit in force when the budget was found spent; null while it is not. A higher limit reopens it. */
  exhaustedAtLimit: number | null;
  /** The admins were told (in this process, or a `pause` record of the day says so). */
  noticed: boolean;
  /** Settles once `audited` is read. */
  ready: Promise<void>;
}

/** What the budget reads and writes: the agent's settings, audit log, gauges and clock, and the admins' alert. */
export interface ModelBudgetDeps {
  /** The settings in force, read at every call (the limit and the time zone may change live). */
  readonly config: Pick<ClientConfig, 'client' | 'timezone' | 'modelDailyBudgetUsd'>;
  readonly audit: Pick<AuditLog, 'append' | 'records'>;
  readonly metrics: Pick<AgentMetrics, 'setLlmBudget'>;
  readonly logger: Logger;
  now(): Date;
  /** Mails the admins' alert (once per key, through the outbox: the client's AdminNotifier). */
  alert(dedupeKey: string, notice: PauseNotice): Promise<unknown>;
}

/**
 * The client's daily model budget (`modelDailyBudgetUsd`, per local day of its time zone). Each call is
 * admitted first (the day's spend known, read from the audit log's `llm_call` records after a restart),
 * then reserves its ceiling (its model's price of its largest input and its output cap) before the request
 * is sent, and settles with its real usage. Once a call does not fit, model work stops until the next local
 * day or a higher budget: audited, gauged, and the admins told once per day.
 */
export class ModelBudget {
  /** Answered calls per message: the other bound on model spend (model-call.ts: MODEL_CALLS_PER_MESSAGE). */
  readonly calls = new ModelCallLedger();
  readonly #context: ModelBudgetDeps;
  #day: BudgetDay | null = null;

  /** One per agent (the runtime context's `modelBudget`): its count lives as long as the opened volume. */
  constructor(deps: ModelBudgetDeps) {
    this.#context = deps;
  }

  /** Before a call: throws ModelBudgetExhaustedError once the day's budget is spent. */
  async admit(): Promise<void> {
    const day = this.#today();
    try {
      await day.ready;
    } catch (error) {
      // Read again at the next call rather than run without knowing the day's spend.
      if (this.#day === day) this.#day = null;
      throw error;
    }
    const limit = this.#limit();
    if (day.exhaustedAtLimit !== null && limit > day.exhaustedAtLimit) day.exhaustedAtLimit = null;
    if (day.exhaustedAtLimit !== null || used(day) >= micros(limit)) await this.#exhaust(day, limit);
    this.#context.metrics.setLlmBudget(limit, false);
  }

  /**
   * Whether model work waits now: the current day's budget was found spent at the limit still in force.
   * Synchronous, for a caller deciding which messages to take up this round (a day not opened yet: false).
   */
  exhausted(): boolean {
    const day = this.#day;
    if (day === null || day.exhaustedAtLimit === null) return false;
    return day.key === dayKey(this.#context.config.timezone, this.#context.now()).key && this.#limit() <= day.exhaustedAtLimit;
  }

  /**
   * Holds `ceiling`'s price for a request about to be sent (synchronous: called just before it goes).
   * Throws ModelBudgetExhaustedError when it does not fit, ModelCallOverBudgetError when it never would.
   */
  reserve(ceiling: CallCeiling): Reservation {
    const day = this.#today();
    const limit = this.#limit();
    const room = micros(limit);
    const ceilingUsd = llmCostUsd(ceiling);
    const cost = micros(ceilingUsd);
    const spent = used(day);
    if (day.exhaustedAtLimit !== null || spent >= room) this.#exhaustLater(day, limit);
    if (cost > room) throw new ModelCallOverBudgetError(ceilingUsd, limit);
    // Only what was really spent closes the day; calls in flight merely make this one wait for a later round.
    if (spent + cost > room) this.#exhaustLater(day, limit);
    if (spent + day.reserved + cost > room) throw new ModelBudgetExhaustedError(day.date, nextMidnight(day));
    day.reserved += cost;
    return { day, micros: cost };
  }

  /** Gives back a reservation whose request got no answer (nothing billed). */
  release(reservation: Reservation | null): void {
    if (reservation !== null) reservation.day.reserved = Math.max(0, reservation.day.reserved - reservation.micros);
  }

  /** A call answered: its reservation (if its adapter made one) is replaced by what it really cost. */
  settle(reservation: Reservation | null, usage: TokenUsage): void {
    this.release(reservation);
    // Counted in the day it is settled in, which its `llm_call` record (written after) falls in too, after
    // `countedFrom`: never read from the log as well.
    this.#today().settled += micros(llmCostUsd(usage));
  }

  #limit(): number {
    return this.#context.config.modelDailyBudgetUsd;
  }

  /** The current local day, opened (and its earlier spend read from the log) on first use. */
  #today(): BudgetDay {
    const now = this.#context.now();
    const timezone = this.#context.config.timezone;
    const { key, date } = dayKey(timezone, now);
    if (this.#day?.key === key) return this.#day;
    const day: BudgetDay = {
      key,
      date,
      timezone,
      countedFrom: now.getTime(),
      audited: 0,
      settled: 0,
      reserved: 0,
      exhaustedAtLimit: null,
      noticed: false,
      ready: Promise.resolve(),
    };
    day.ready = this.#readAudited(day);
    // A rejection is handled by admit; this keeps it from counting as unhandled meanwhile.
    day.ready.catch(() => undefined);
    this.#day = day;
    return day;
  }

  /** Sums the day's `llm_call` costs recorded before the count in memory began. */
  async #readAudited(day: BudgetDay): Promise<void> {
    const since = localMidnight(day.date, day.timezone);
    if (day.countedFrom <= since.getTime()) return;
    for await (const record of this.#context.audit.records({ since, until: new Date(day.countedFrom - 1) })) {
      if (record.action_type === 'llm_call') day.audited += costOf(record);
      else if (isBudgetPause(record, day.date)) day.noticed = true;
    }
  }

  #exhaustLater(day: BudgetDay, limit: number): never {
    this.#markExhausted(day, limit);
    void this.#tell(day, limit).catch((error: unknown) => this.#context.logger.warn('model budget alert not sent now', { error }));
    throw new ModelBudgetExhaustedError(day.date, nextMidnight(day));
  }

  async #exhaust(day: BudgetDay, limit: number): Promise<never> {
    this.#markExhausted(day, limit);
    await this.#tell(day, limit).catch((error: unknown) => this.#context.logger.warn('model budget alert not sent now', { error }));
    throw new ModelBudgetExhaustedError(day.date, nextMidnight(day));
  }

  #markExhausted(day: BudgetDay, limit: number): void {
    day.exhaustedAtLimit = limit;
    this.#context.metrics.setLlmBudget(limit, true);
  }

  /** Audits the stop and mails the admins, once per day (the outbox keeps the mail to one across restarts). */
  async #tell(day: BudgetDay, limit: number): Promise<void> {
    if (day.noticed) return;
    day.noticed = true;
    const context = this.#context;
    const spentUsd = used(day) / 1_000_000;
    context.logger.warn('model budget spent; model work waits for the next day', { day: day.date, limitUsd: limit });
    await context.audit.append(modelBudgetReached({ day: day.date, limitUsd: limit, spentUsd, resumesAt: nextMidnight(day).toISOString() }));
    await context.alert(`model-budget:${day.date}`, modelBudgetNotice({ client: context.config.client, limitUsd: limit, day: day.date, timezone: day.timezone }));
  }
}

/** The local date of `now` in `timezone`, and the key of its count. */
function dayKey(timezone: string, now: Date): { key: string; date: string } {
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(now);
  return { key: `${timezone}|${date}`, date };
}

function used(day: BudgetDay): number {
  return day.audited + day.settled;
}

function micros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

function nextMidnight(day: BudgetDay): Date {
  const next = new Date(Date.parse(`${day.date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return localMidnight(next, day.timezone);
}

function costOf(record: AuditRecord): number {
  const cost = record.parameters['cost_usd'];
  return typeof cost === 'number' && Number.isFinite(cost) && cost > 0 ? micros(cost) : 0;
}

function isBudgetPause(record: AuditRecord, date: string): boolean {
  return record.action_type === 'pause' && record.target === 'model' && record.parameters['reason'] === 'model_budget' && record.parameters['day'] === date;
}
