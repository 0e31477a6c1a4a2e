import { comparableAddress } from './ascii-domain.ts';
import { outboundRecipients, type ProposedAction } from './proposed-action.ts';

/**
 * Who an update or cancel of an existing event reaches. The provider notifies EVERY attendee of the
 * event of the change (Google `sendUpdates=all`, Graph for an organizer's change), with the text the
 * change wrote, not only the participants the change names; so the gate decides on all of them. The
 * runtime reads them from the event just before the change runs (the proposal cannot know them) and the
 * gate counts them as the action's recipients for every rule: block list, new contacts, bulk, the send
 * limits. An approval covers only the ones its approver was shown.
 */
export type NotifiedAttendees = {
  /** Everyone the provider notifies, as the calendar lists them (the owner's own mailbox left out). */
  attendees: readonly string[];
  /**
   * Those of them the approver of the approval the change runs under was shown (the approval's event
   * preview). The change's own participants count as shown: they are in the arguments approved.
   */
  shown: readonly string[];
};

/** An attendee as the gate compares it (ascii-domain.ts): never known unless a plain address, never skipped. */
const canonical = comparableAddress;

/** Whether the notified attendees apply to this action: an update or cancel of an event. */
function notifies(action: ProposedAction): action is Extract<ProposedAction, { kind: 'calendar.write' }> {
  return action.kind === 'calendar.write' && action.operation !== 'create';
}

/** The action's recipients and, for an update or cancel whose notified attendees are known, those too (de-duplicated). Pure. */
export function recipientsWithNotified(action: ProposedAction, notified: NotifiedAttendees | undefined): readonly string[] {
  const own = outboundRecipients(action);
  if (notified === undefined || !notifies(action)) return own;
  const all = new Set(own);
  for (const raw of notified.attendees) {
    const address = canonical(raw);
    if (address !== '') all.add(address);
  }
  return all.size === own.length ? own : [...all];
}

/** The recipients the approver was not shown: neither in the approval's preview nor named by the action. Pure. */
export function unseenRecipients(action: ProposedAction, recipients: readonly string[], notified: NotifiedAttendees | undefined): string[] {
  if (notified === undefined || !notifies(action)) return [];
  const shown = new Set([...outboundRecipients(action), ...notified.shown.map(canonical)]);
  return recipients.filter((address) => !shown.has(address));
}
