/**
 * The agent's one pause flag as the outbox reads and raises it. The runtime backs it with its state
 * store's pause: sending stops while the agent is paused because the provider refused its credentials.
 */
export interface SendPause {
  /** Why sending is paused (the provider refused our credentials), or null. */
  authPause(): string | null;
  /** Pauses for refused credentials; resolves once the pause is durable (and its alert is on its way). */
  raise(reason: string): Promise<void>;
  /** Lifts the pause (a human fixed the credentials). */
  lift(by: string): Promise<void>;
}
