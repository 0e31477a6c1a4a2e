import type { Clock } from '../ports/clock.ts';
import type { LinkNonceStore } from '../ports/portal-store.ts';
import { signApprovalLink, verifyApprovalLink, type ApprovalLink } from './crypto/signed-link.ts';

export type LinkState = { ok: true; link: ApprovalLink; nonceHash: string } | { ok: false };

/**
 * One-tap links in approval emails: HMAC-signed, naming client and approval, valid until the earlier of
 * the link lifetime and the approval's expiry, and usable for one decision. Opening one changes nothing.
 */
export class ApprovalLinks {
  private readonly key: Buffer;
  private readonly nonces: LinkNonceStore;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly publicUrl: () => string;

  constructor(options: {
    key: Buffer;
    nonces: LinkNonceStore;
    clock: Clock;
    ttlMs: number;
    publicUrl: () => string;
  }) {
    this.key = options.key;
    this.nonces = options.nonces;
    this.clock = options.clock;
    this.ttlMs = options.ttlMs;
    this.publicUrl = options.publicUrl;
  }

  /** The URL to put in the email. */
  linkFor(clientId: string, approvalId: string, approvalExpiresAt?: Date): string {
    const limit = this.clock.now().getTime() + this.ttlMs;
    const expiresAt = new Date(approvalExpiresAt ? Math.min(limit, approvalExpiresAt.getTime()) : limit);
    return `${this.publicUrl()}/a/${signApprovalLink(this.key, { clientId, approvalId, expiresAt })}`;
  }

  /** A signed, unexpired and unused link; anything else is `{ ok: false }`, whatever the reason. */
  async check(token: string): Promise<LinkState> {
    const checked = verifyApprovalLink(this.key, token, this.clock.now());
    if (!checked.ok || (await this.nonces.isLinkNonceUsed(checked.nonceHash))) return { ok: false };
    return { ok: true, link: checked.link, nonceHash: checked.nonceHash };
  }

  /** Uses a checked link once: false when it was used meanwhile. */
  async use(state: Extract<LinkState, { ok: true }>): Promise<boolean> {
    return this.nonces.useLinkNonce(
      state.nonceHash,
      state.link.clientId,
      state.link.expiresAt,
      this.clock.now(),
    );
  }
}
