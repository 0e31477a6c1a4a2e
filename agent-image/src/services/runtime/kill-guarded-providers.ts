import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { CrmProvider } from '../../ports/crm-provider.ts';
import type { MailProvider } from '../../ports/mail-provider.ts';
import type { Connectors, CrmConnector } from './connectors.ts';
import type { KillSwitch } from './kill-switch.ts';

/** The mailbox calls that change it or send from it (reads, and unwatching, stay open to a killed agent). */
const MAIL_WRITES = ['createDraft', 'updateDraft', 'deleteDraft', 'sendDraft', 'label', 'archive', 'markRead'] as const satisfies readonly (keyof MailProvider)[];
/** The calendar calls that write (and invite, or notify, attendees). */
const CALENDAR_WRITES = ['createEvent', 'updateEvent', 'cancelEvent'] as const;
const CRM_WRITES = ['appendInteractionNote', 'updateLastContact'] as const satisfies readonly (keyof CrmProvider)[];

/**
 * The connectors with the kill switch checked as the very last step of every provider write, at the
 * call itself: whatever ran before it (an intent audited, a draft read back, a retry's backoff, a wait
 * for memory) may have outlasted a kill, and a write after the kill must not reach the provider. A
 * refused write rejects with FleetError 'killed' and nothing is sent. The model is left as it is
 * (model-call.ts checks before every call), and so is the push watch, which a kill must still be able
 * to stop.
 */
export function killGuardedConnectors(connectors: Connectors, kill: KillSwitch): Connectors {
  return {
    ...connectors,
    provider: guardWrites(connectors.provider, MAIL_WRITES, kill, 'mail'),
    calendar: connectors.calendar === null ? null : guardWrites<CalendarProvider>(connectors.calendar, CALENDAR_WRITES, kill, 'calendar'),
    crm: connectors.crm === null ? null : guardedCrm(connectors.crm, kill),
  };
}

function guardedCrm(connector: CrmConnector, kill: KillSwitch): CrmConnector {
  return {
    ...connector,
    provider: guardWrites(connector.provider, CRM_WRITES, kill, 'crm'),
    // A CRM rebuilt from a newer secret (a reconnect while CRM work is paused) is guarded the same way.
    rebuild: (raw) => guardWrites(connector.rebuild(raw), CRM_WRITES, kill, 'crm'),
  };
}

/**
 * `target` with each method named in `writes` refused (a rejected promise, as the provider's own
 * failures are) while the kill switch is engaged. Methods the target lacks stay absent, so optional
 * capabilities (a calendar that cannot edit events) still read as absent.
 */
function guardWrites<T extends object>(target: T, writes: readonly string[], kill: KillSwitch, service: string): T {
  const guarded = new Set<string>(writes);
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== 'string' || !guarded.has(property)) return method.bind(object);
      return (...args: unknown[]): unknown => {
        try {
          kill.assertAlive(`${service} ${property}`);
        } catch (error) {
          return Promise.reject(error as Error);
        }
        return method.apply(object, args);
      };
    },
  });
}
