import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, PortalStore } from '../../ports/portal-store.ts';
import { seal, unseal } from '../crypto/sealed-box.ts';
import { hmacBase64url, tokenHash } from '../crypto/tokens.ts';
import { MAX_PASSKEYS_PER_ENROLMENT } from './enrolment.ts';
import type { LiveSession } from './sessions.ts';

export interface RelyingParty {
  /** The portal's host name (WebAuthn RP ID). */
  id: string;
  /** The portal's origin as browsers see it. */
  origin: string;
  name: string;
}

interface SealedPasskey {
  id: string;
  publicKey: string;
  transports: string[];
}

const CHALLENGE_TTL_MS = 5 * 60_000;
/** ES256, EdDSA, RS256: what passkey providers use (and no experimental algorithm of the runtime). */
const ALGORITHMS = [-7, -8, -257];
const purposeOf = (admin: AdminRef) => `passkey:${admin.clientId}:${admin.email}`;

/**
 * Passkeys (WebAuthn, @simplewebauthn/server). Discoverable credentials with user verification, so that
 * one passkey tap both names and proves the admin. Each ceremony's challenge is kept hashed in the session
 * and taken once. The credential's public key is sealed at rest with the portal's credential key.
 */
export class Passkeys {
  private readonly store: PortalStore;
  private readonly clock: Clock;
  private readonly sealingKey: Buffer;
  private readonly relyingParty: () => RelyingParty;
  private readonly onRefused: () => void;

  constructor(options: {
    store: PortalStore;
    clock: Clock;
    sealingKey: Buffer;
    relyingParty: () => RelyingParty;
    /** Called on each refused sign-in assertion (fleet_api_auth_failures_total). */
    onRefused?: () => void;
  }) {
    this.store = options.store;
    this.clock = options.clock;
    this.sealingKey = options.sealingKey;
    this.relyingParty = options.relyingParty;
    this.onRefused = options.onRefused ?? (() => undefined);
  }

  async registrationOptions(
    session: LiveSession,
    admin: AdminRef,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.relyingParty();
    const existing = (await this.store.credentials.listCredentials(admin)).filter(
      (credential) => credential.kind === 'passkey',
    );
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: `${admin.email} (${admin.clientId})`,
      userDisplayName: admin.email,
      // Stable per admin, and meaningless outside this portal.
      userID: Buffer.from(
        hmacBase64url(this.sealingKey, `user:${admin.clientId}:${admin.email}`),
        'base64url',
      ),
      attestationType: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
      excludeCredentials: existing.map((credential) => ({ id: this.open(credential.sealed, admin).id })),
    });
    await this.remember(session, options.challenge);
    return options;
  }

  /**
   * Verifies and stores a new passkey for the admin under the enrolment; false when it does not verify, its
   * credential id is already registered, or the enrolment holds the most passkeys it may. It signs in once
   * the enrolment finishes (enrolment.ts).
   */
  async register(
    session: LiveSession,
    admin: AdminRef,
    enrolmentHash: string,
    response: RegistrationResponseJSON,
  ): Promise<boolean> {
    const expected = await this.store.sessions.takeChallenge(session.record.idHash, this.clock.now());
    if (expected === null) return false;
    const held = (await this.store.credentials.listCredentials(admin)).filter(
      (credential) => credential.kind === 'passkey' && credential.enrolmentHash === enrolmentHash,
    );
    if (held.length >= MAX_PASSKEYS_PER_ENROLMENT) return false;
    const rp = this.relyingParty();
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: (challenge) => tokenHash(challenge) === expected,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    }).catch(() => null);
    if (!verification?.verified) return false;
    const credential = verification.registrationInfo.credential;
    // Credential ids are unique (the store refuses a second); an authenticator answer is the sender's to choose.
    if (await this.store.credentials.findPasskey(tokenHash(credential.id))) return false;
    const sealed: SealedPasskey = {
      id: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      transports: credential.transports ?? [],
    };
    await this.store.credentials.addCredential({
      id: randomUUID(),
      clientId: admin.clientId,
      email: admin.email,
      kind: 'passkey',
      lookupHash: tokenHash(credential.id),
      sealed: seal(this.sealingKey, JSON.stringify(sealed), purposeOf(admin)),
      confirmed: false,
      enrolmentHash,
      createdAt: this.clock.now(),
    });
    return true;
  }

  async authenticationOptions(session: LiveSession): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.relyingParty().id,
      userVerification: 'required',
    });
    await this.remember(session, options.challenge);
    return options;
  }

  /** The admin a passkey assertion proves, or null (unknown credential, bad signature, replay, no challenge). */
  async authenticate(session: LiveSession, response: AuthenticationResponseJSON): Promise<AdminRef | null> {
    const admin = await this.verifyAssertion(session, response);
    if (admin === null) this.onRefused();
    return admin;
  }

  private async verifyAssertion(session: LiveSession, response: AuthenticationResponseJSON): Promise<AdminRef | null> {
    const expected = await this.store.sessions.takeChallenge(session.record.idHash, this.clock.now());
    if (expected === null || typeof response.id !== 'string') return null;
    const stored = await this.store.credentials.findPasskey(tokenHash(response.id));
    if (!stored?.confirmed) return null;
    const admin = { clientId: stored.clientId, email: stored.email };
    const passkey = this.open(stored.sealed, admin);
    const rp = this.relyingParty();
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: (challenge) => tokenHash(challenge) === expected,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: {
        id: passkey.id,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: stored.counter,
        transports: passkey.transports,
      },
    }).catch(() => null);
    if (!verification?.verified) return null;
    const recorded = await this.store.credentials.recordUse(stored.id, {
      at: this.clock.now(),
      counter: verification.authenticationInfo.newCounter,
    });
    return recorded ? admin : null;
  }

  private async remember(session: LiveSession, challenge: string): Promise<void> {
    await this.store.sessions.setChallenge(
      session.record.idHash,
      tokenHash(challenge),
      new Date(this.clock.now().getTime() + CHALLENGE_TTL_MS),
    );
  }

  private open(sealed: string, admin: AdminRef): SealedPasskey {
    return JSON.parse(unseal(this.sealingKey, sealed, purposeOf(admin)).toString('utf8')) as SealedPasskey;
  }
}
