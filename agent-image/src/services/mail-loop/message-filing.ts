import { filed, gateRefused, type AuditEvent } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import type { ClientConfig, EmailType } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { parseProposedAction, type ProposedAction } from '../../domain/policy/proposed-action.ts';
import { ProviderAuthError, type MailProvider } from '../../ports/mail-provider.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { errorSummary } from './error-summary.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';

/** One filing write on a classified message. */
export type FilingOperation = 'label' | 'mark_read' | 'archive';

export interface FilingStep {
  operation: FilingOperation;
  /** What the gate is asked about. */
  action: ProposedAction;
  /** The label or category name, for `label`. */
  label?: string;
}

/** What became of one step: written, recorded in dry run, refused by the gate, or failed at the provider. */
export type FilingOutcome = 'done' | 'dry_run' | 'refused' | 'failed';

/** The flag a mark-read removes, in the gate's vocabulary (Gmail's UNREAD label, Graph's isRead). */
export const UNREAD = 'UNREAD';

/** The label / category a message of this type gets, e.g. "AgentFleet/scheduling". */
export function labelFor(config: ClientConfig, emailType: EmailType): string {
  return `${config.triage.labelPrefix}/${emailType}`;
}

function parsed(input: unknown): ProposedAction {
  const result = parseProposedAction(input);
  if (!result.ok) throw new FleetError('integrity', `filing action does not parse: ${result.issues.join('; ')}`);
  return result.action;
}

/**
 * The filing writes the client's config asks for, in order: label (when `mail.label` is granted: an
 * ungranted capability means the client does not want it, not a refusal to record each time), then mark
 * read and archive for the configured types. Pure.
 */
export function filingPlan(config: ClientConfig, messageId: string, emailType: EmailType): FilingStep[] {
  const steps: FilingStep[] = [];
  if (config.permissions['mail.label'] === true) {
    const label = labelFor(config, emailType);
    steps.push({ operation: 'label', label, action: parsed({ kind: 'mail.label', messageIds: [messageId], add: [label] }) });
  }
  if (config.triage.markReadTypes.includes(emailType)) {
    steps.push({ operation: 'mark_read', action: parsed({ kind: 'mail.label', messageIds: [messageId], remove: [UNREAD] }) });
  }
  if (config.triage.archiveTypes.includes(emailType)) {
    steps.push({ operation: 'archive', action: parsed({ kind: 'mail.move', messageIds: [messageId], destination: 'archive' }) });
  }
  return steps;
}

export interface FilingDeps {
  context: RuntimeContext;
  provider: MailProvider;
  retry: RetryOptions;
}

/**
 * Runs the filing plan of one message: each step through the gate, never in dry run or once killed, each
 * outcome audited. A provider failure is audited and logged and the next step still runs: filing must
 * never hold up the reply. Killed and authentication failures go back to the caller.
 *
 * Filing writes are idempotent and the caller re-files a message until it has recorded it as filed, which
 * it does only after this returns: so a write needs no intent record ahead of it (a crash before the
 * outcome record means the write is done and recorded again), and the outcome records of all steps are
 * appended together, one group commit instead of one per step.
 */
export async function fileMessage(deps: FilingDeps, messageId: string, emailType: EmailType): Promise<Map<FilingOperation, FilingOutcome>> {
  const outcomes = new Map<FilingOperation, FilingOutcome>();
  const records: AuditEvent[] = [];
  try {
    for (const step of filingPlan(deps.context.config, messageId, emailType)) {
      const { outcome, record } = await runStep(deps, step, messageId, emailType);
      outcomes.set(step.operation, outcome);
      records.push(record);
    }
  } finally {
    await Promise.all(records.map((record) => deps.context.audit.append(record)));
  }
  return outcomes;
}

async function runStep(deps: FilingDeps, step: FilingStep, messageId: string, emailType: EmailType): Promise<{ outcome: FilingOutcome; record: AuditEvent }> {
  const { context, provider, retry } = deps;
  const action = step.action.kind === 'mail.move' ? 'email_move' : 'email_label';
  const parameters: { [key: string]: JsonValue } = {
    message_id: messageId,
    operation: step.operation,
    email_type: emailType,
    ...(step.label === undefined ? {} : { label: step.label }),
  };
  const decision = context.gate.evaluateParsed(step.action, context.policyState(), context.now());
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  if (decision.decision !== 'allow') {
    const dryRun = decision.reasons.includes('dry_run');
    const record = gateRefused({
      action,
      dryRun,
      target: messageId,
      parameters: {
        ...parameters,
        kind: step.action.kind,
        reasons: decision.reasons,
        ...(dryRun && decision.dryRun !== undefined ? { would_decide: decision.dryRun.decision } : { decision: decision.decision }),
      },
      contentHash: null,
    });
    return { outcome: dryRun ? 'dry_run' : 'refused', record };
  }
  context.kill.assertAlive(step.operation);
  try {
    await withProviderRetry(() => write(provider, step, messageId), retry).catch((error: unknown) => {
      // Someone else (the mailbox owner, another client of the mailbox) may create the missing label
      // between our lookup and our create: the conflict means it exists now, and once more finds it.
      if (step.operation === 'label' && error instanceof FleetError && error.code === 'conflict') {
        return withProviderRetry(() => write(provider, step, messageId), retry);
      }
      throw error;
    });
  } catch (error) {
    if (error instanceof ProviderAuthError || (error instanceof FleetError && error.code === 'killed')) throw error;
    context.logger.warn('filing a message failed; drafting goes on', { messageId, operation: step.operation, error });
    return { outcome: 'failed', record: filed({ action, messageId, parameters: { ...parameters, error: errorSummary(error) }, result: 'failure' }) };
  }
  return { outcome: 'done', record: filed({ action, messageId, parameters, result: 'success' }) };
}

function write(provider: MailProvider, step: FilingStep, messageId: string): Promise<void> {
  switch (step.operation) {
    case 'label':
      return provider.label(messageId, step.label ?? '');
    case 'mark_read':
      return provider.markRead(messageId);
    case 'archive':
      return provider.archive(messageId);
  }
}
