import type { SecretSource } from '../../ports/secret-source.ts';
import type { CrmConnector } from '../runtime/connectors.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { CrmNotes } from './crm-notes.ts';
import { CrmWork } from './crm-work.ts';

/** The client's CRM as the agent works it: lookups and the pause (work), and the notes after sends. */
export interface CrmLink {
  readonly work: CrmWork;
  readonly notes: CrmNotes;
}

/** Builds the CRM work of one connection; the notes owed and the pause are read from the audit log. */
export async function openCrmLink(input: { context: RuntimeContext; connector: CrmConnector; source: () => SecretSource }): Promise<CrmLink> {
  const work = new CrmWork(input);
  const notes = new CrmNotes(work, input.context);
  await notes.load();
  return { work, notes };
}

/**
 * A round of CRM work: while paused, a newly stored CRM secret lifts the pause; then the notes owed for
 * emails sent since (after a deferral, a restart or a pause) are written. Never throws but for the kill.
 */
export async function crmRound(crm: CrmLink, context: RuntimeContext): Promise<void> {
  try {
    await crm.work.resumeIfReconnected();
    await crm.notes.settle();
  } catch (error) {
    if (context.kill.killed) throw error;
    context.logger.warn('crm round failed; it is tried again next round', { error });
  }
}
