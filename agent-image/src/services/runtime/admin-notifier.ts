import { createHash } from 'node:crypto';
import { adminMailSkipped } from '../../domain/audit-events.ts';
import { blockedAmong } from '../../domain/policy/approval-coverage.ts';
import type { OutboxStatus, SendOutcome } from '../outbox/outbox.ts';
import type { RuntimeContext } from './runtime-context.ts';

export type SystemMailKind = 'alert' | 'daily_summary' | 'weekly_digest' | 'approval_request' | 'portal_enrolment';

/**
 * What became of a mail to the admins: `sent` (the provider took it); `queued` (in the outbox, to go by
 * itself: no provider yet, sending paused, or a transient error); `held` (the outbox holds it for a human:
 * quarantined or in review, so it goes only if someone releases it; the admins have not been told);
 * `skipped` (not sent and never will be: dry run, kill, no admin left, `mail.send` not granted, or
 * withdrawn at a revive).
 */
export type NotifyOutcome = 'sent' | 'queued' | 'held' | 'skipped';

/** The outcome an outbox entry (or a dispatch of it) stands for. */
function outcomeOf(status: OutboxStatus | SendOutcome['status']): NotifyOutcome {
  switch (status) {
    case 'sent':
      return 'sent';
    case 'quarantined':
    case 'review':
      return 'held';
    case 'withdrawn':
    case 'discarded':
      return 'skipped';
    case 'pending':
    case 'paused':
    case 'deferred':
      return 'queued';
  }
}

/** The outbox key of a system mail: the same kind and dedupe key always make the same one. */
function outboxKeyOf(kind: SystemMailKind, dedupeKey: string): string {
  return `sys-${createHash('sha256').update(`${kind}:${dedupeKey}`).digest('hex').slice(0, 40)}`;
}

/**
 * Mail from the agent to the client's own admins (alerts, summaries): fixed recipients from the config,
 * sent through the client's provider and the outbox (exactly once per `dedupeKey`), audited, and not
 * counted against the client's send limits. Never in dry run, never after a kill, never to an admin on
 * the client's block list, and only when the client granted `mail.send`.
 */
export class AdminNotifier {
  private readonly context: RuntimeContext;

  constructor(context: RuntimeContext) {
    this.context = context;
  }

  /**
   * `dedupeKey`: the same key never sends twice (e.g. `summary:2026-01-07`, `pause:<since>`). `only`: a
   * subset of the admins (e.g. the one being enrolled); never anyone outside the config's admins.
   */
  async notify(kind: SystemMailKind, dedupeKey: string, subject: string, text: string, html: string | null = null, only: readonly string[] | null = null): Promise<NotifyOutcome> {
    const { context } = this;
    const key = outboxKeyOf(kind, dedupeKey);
    const named = only === null ? context.config.admins : context.config.admins.filter((admin) => only.includes(admin.toLowerCase()));
    // The block list is the client's own "never mail these": it holds for the agent's mail to admins too.
    const blocked = new Set(blockedAmong(context.config.blockList, named));
    const admins = named.filter((admin) => !blocked.has(admin));
    const skipReason = context.kill.killed
      ? 'killed'
      : context.config.dryRun
        ? 'dry_run'
        : named.length === 0
          ? 'no_admins'
          : admins.length === 0
            ? 'blocked_recipient'
            : context.config.permissions['mail.send'] !== true
              ? 'mail.send_not_granted'
              : null;
    if (skipReason !== null) {
      if (context.outbox.get(key) === undefined) {
        await context.audit.append(
          adminMailSkipped({ admins, parameters: { kind, subject, idempotency_key: key, skipped: skipReason }, dryRun: skipReason === 'dry_run' }),
        );
      }
      context.logger.warn('admin mail not sent', { kind, reason: skipReason });
      return 'skipped';
    }
    if (blocked.size > 0 && context.outbox.get(key) === undefined) {
      // Those left out are in the trail by address (the log has their count), so a notice that stops
      // reaching one admin has its reason on record.
      await context.audit.append(
        adminMailSkipped({ admins: [...blocked], parameters: { kind, subject, idempotency_key: key, skipped: 'blocked_recipient' }, dryRun: false }),
      );
      context.logger.warn('admin mail not sent to admins on the block list', { kind, blocked: blocked.size, sentTo: admins.length });
    }
    const entry = await context.outbox.enqueue({
      message: { to: [...admins], subject, text, html },
      idempotencyKey: key,
      actor: 'system',
      approvalStatus: 'not_required',
      approvedBy: null,
      auditParameters: { kind },
    });
    const receipts = context.receipts();
    // Without a provider the entry's own state is the answer: one sent or held before stays so.
    return outcomeOf(receipts === null ? entry.status : (await context.outbox.dispatch(entry.idempotencyKey, receipts)).status);
  }

  /**
   * Whether a mail under this kind and key already went to the outbox (sent, waiting there, or held there
   * for a human): `notify` never sends it again. A send withdrawn at a revive or discarded does not count.
   */
  alreadyInOutbox(kind: SystemMailKind, dedupeKey: string): boolean {
    const status = this.context.outbox.get(outboxKeyOf(kind, dedupeKey))?.status;
    return status !== undefined && status !== 'withdrawn' && status !== 'discarded';
  }
}
