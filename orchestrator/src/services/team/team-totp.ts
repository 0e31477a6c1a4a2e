import { generateSecret, generateURI } from 'otplib';
import type { Clock } from '../../ports/clock.ts';
import type { MemberStore, StoredMember } from '../../ports/team-store.ts';
import { seal, unseal } from '../../portal/crypto/sealed-box.ts';
import { acceptedTotpStep } from '../../portal/crypto/totp-code.ts';

const ISSUER = 'agent-fleet ops';
const purposeOf = (member: string) => `team-totp:${member}`;

/**
 * Team members' TOTP (otplib, RFC 6238: SHA-1, 6 digits, 30 s). The secret is sealed at rest under the
 * team key (a copy of the database alone opens none), shown once at enrolment, and every code is
 * accepted once: its time step must be later than the last accepted one.
 */
export class TeamTotp {
  private readonly members: MemberStore;
  private readonly clock: Clock;
  private readonly sealingKey: Buffer;

  constructor(options: { members: MemberStore; clock: Clock; sealingKey: Buffer }) {
    this.members = options.members;
    this.clock = options.clock;
    this.sealingKey = options.sealingKey;
  }

  /** A new secret for the member's authenticator app, stored sealed (replacing any earlier one). */
  async newSecret(member: StoredMember): Promise<{ secret: string; uri: string }> {
    const secret = generateSecret({ length: 20 });
    await this.members.setTotpSecret(member.name, seal(this.sealingKey, secret, purposeOf(member.name)));
    return {
      secret,
      uri: generateURI({ issuer: ISSUER, label: `${member.name} (${member.email})`, secret }),
    };
  }

  /**
   * Revokes the member's authenticator (`fleet team reissue`: it was lost): the secret is replaced by a
   * random one that is never shown, so no code of the old app is accepted from now on, and the member is
   * enrolling until they set up the new one.
   */
  async revoke(member: StoredMember): Promise<void> {
    const unknown = generateSecret({ length: 20 });
    await this.members.setTotpSecret(member.name, seal(this.sealingKey, unknown, purposeOf(member.name)));
  }

  /**
   * Whether `code` is the member's current code, not used before; an accepted code is recorded, only while
   * the secret it was checked against is still the member's (a reissue meanwhile refuses it).
   */
  async accept(member: StoredMember, code: string): Promise<boolean> {
    const sealed = member.totpSealed;
    if (sealed === null) return false;
    const secret = unseal(this.sealingKey, sealed, purposeOf(member.name)).toString('utf8');
    const now = this.clock.now();
    const step = await acceptedTotpStep(secret, code, now);
    if (step === null) return false;
    return this.members.recordTotpUse(member.name, sealed, step, now);
  }
}
