/**
 * The client portal's own state: enrolment links, admin credentials, sessions, failed sign-ins and used
 * one-tap links. Callers hand it only hashes of tokens (sha256 hex) and sealed (encrypted) credential
 * material: the store never sees a token, a TOTP secret or a passkey key in the clear.
 * Admins are identified by client and lower-case email address.
 */

export interface AdminRef {
  clientId: string;
  email: string;
}

export interface NewEnrolment extends AdminRef {
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
}

export type CredentialKind = 'passkey' | 'totp';

export interface StoredCredential extends AdminRef {
  id: string;
  kind: CredentialKind;
  /** sha256 of the WebAuthn credential id (passkeys), for look-up at sign-in; null for TOTP. */
  lookupHash: string | null;
  /** The credential sealed by the portal's credential key (passkey public key, TOTP secret). */
  sealed: string;
  /** WebAuthn signature counter (passkeys). */
  counter: number;
  /** Last TOTP time step accepted: a code of that step or before is a replay. */
  lastTimeStep: number | null;
  /** An unconfirmed credential cannot sign in: only credentials of a finished enrolment are confirmed. */
  confirmed: boolean;
  /** sha256 of the enrolment token under which it was made. */
  enrolmentHash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export type NewCredential = Omit<
  StoredCredential,
  'counter' | 'lastTimeStep' | 'createdAt' | 'lastUsedAt'
> & { createdAt: Date };

/** anonymous: before sign-in (holds the WebAuthn challenge); enrolling: enrolment link used; active: signed in. */
export type SessionStage = 'anonymous' | 'enrolling' | 'active';

export interface StoredSession {
  idHash: string;
  stage: SessionStage;
  clientId: string | null;
  email: string | null;
  /** For an enrolling session: the enrolment it came from. */
  enrolmentHash: string | null;
  createdAt: string;
  lastSeenAt: string;
  /** Absolute end, whatever the activity. */
  expiresAt: string;
}

export interface NewSession {
  idHash: string;
  stage: SessionStage;
  clientId: string | null;
  email: string | null;
  enrolmentHash: string | null;
  now: Date;
  expiresAt: Date;
}

export interface LockoutPolicy {
  maxFailures: number;
  /** Failures count within this window; a lockout lasts as long. */
  windowMs: number;
}

export interface EnrolmentStore {
  /** Records a new single-use enrolment link (its token hashed), replacing every unused earlier link of the same admin. */
  createEnrolment(enrolment: NewEnrolment): Promise<void>;
  /** The admin an unused, unexpired link is for, and its expiry, without using it. */
  peekEnrolment(tokenHash: string, now: Date): Promise<(AdminRef & { expiresAt: Date }) | null>;
  /** Uses the link once: the admin on the first call for an unused, unexpired link, null afterwards. */
  consumeEnrolment(tokenHash: string, now: Date): Promise<AdminRef | null>;
}

export interface CredentialStore {
  addCredential(credential: NewCredential): Promise<void>;
  listCredentials(admin: AdminRef): Promise<StoredCredential[]>;
  /** The passkey with this credential-id hash, whoever's it is. */
  findPasskey(lookupHash: string): Promise<StoredCredential | null>;
  /** Confirmed TOTP credentials of an address, across clients. */
  listTotpByEmail(email: string): Promise<StoredCredential[]>;
  confirmCredential(id: string): Promise<void>;
  /**
   * Records a use. A TOTP step must be later than the last accepted one and a non-zero passkey counter must
   * grow: false (and nothing recorded) otherwise, so that a replayed code or assertion is refused.
   */
  recordUse(id: string, use: { at: Date; timeStep?: number; counter?: number }): Promise<boolean>;
  /** Removes the admin's credentials other than those made under `keepEnrolmentHash` (a finished re-enrolment). */
  replaceCredentials(admin: AdminRef, keepEnrolmentHash: string): Promise<void>;
}

export interface SessionStore {
  createSession(session: NewSession): Promise<void>;
  getSession(idHash: string): Promise<StoredSession | null>;
  touchSession(idHash: string, at: Date): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of the admin; returns how many. */
  endSessions(admin: AdminRef): Promise<number>;
  /** Keeps the sha256 of a WebAuthn challenge for the session, replacing any earlier one. */
  setChallenge(idHash: string, challengeHash: string, expiresAt: Date): Promise<void>;
  /** Takes the session's challenge hash once (cleared by the call); null when none or expired. */
  takeChallenge(idHash: string, now: Date): Promise<string | null>;
}

export interface LoginThrottleStore {
  /** When the subject is locked out, until when; null when it is not. */
  lockedUntil(subject: string, now: Date): Promise<Date | null>;
  /** Counts a failure; returns the lockout end when this failure reached the limit. */
  recordFailure(subject: string, now: Date, policy: LockoutPolicy): Promise<Date | null>;
  clearFailures(subject: string): Promise<void>;
}

export interface LinkNonceStore {
  /** Marks a one-tap link used: true the first time, false when it was used before. */
  useLinkNonce(nonceHash: string, clientId: string, expiresAt: Date, now: Date): Promise<boolean>;
  isLinkNonceUsed(nonceHash: string): Promise<boolean>;
}

export interface PortalStore {
  enrolments: EnrolmentStore;
  credentials: CredentialStore;
  sessions: SessionStore;
  throttle: LoginThrottleStore;
  links: LinkNonceStore;
  /** Every admin holding a credential or a session: checked against the client configs to end removed admins. */
  knownAdmins(): Promise<AdminRef[]>;
  /** Deletes an admin's credentials, sessions and open enrolment links (removed from the client config). */
  forgetAdmin(admin: AdminRef): Promise<void>;
  /**
   * Deletes everything the portal keeps of a client (its deletion: an erasure or a purge): every credential,
   * session, enrolment link (used ones too, which still hold the admin's sealed address until they expire) and
   * used one-tap link record. Failed sign-in counts stay: they are kept by a one-way key of the address typed,
   * not by client, and dropped a day after the last failure. Returns how many admins its rows named.
   */
  forgetClient(clientId: string): Promise<number>;
  /** Drops expired sessions, enrolment links, used-link records and stale failure counts. */
  purgeExpired(now: Date): Promise<void>;
}
