// The send path of a killable agent, for outbox tests of the kill switch.
import type { OutboundMessage, SendReceipt, SendReceipts } from '../../../agent-image/src/ports/send-receipts.ts';
import type { SendRequest } from '../../../agent-image/src/services/outbox/outbox.ts';
import type { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';

/** The provider side as the runtime builds it (MailSendReceipts): every send checks the kill switch first. */
export function killGuarded(provider: SendReceipts, kill: KillSwitch): SendReceipts {
  return {
    findSentByIdempotencyKey: (key) => provider.findSentByIdempotencyKey(key),
    send: async (message: OutboundMessage): Promise<SendReceipt> => {
      kill.assertAlive('send');
      return provider.send(message);
    },
  };
}

/** An invoice to one client that an admin approved, under `idempotencyKey`. */
export function approvedInvoice(idempotencyKey: string): SendRequest {
  return {
    message: { to: ['client@example.com'], subject: 'Invoice', text: 'Attached.' },
    idempotencyKey,
    actor: 'agent',
    approvalStatus: 'approved',
    approvedBy: 'admin:alice',
  };
}
