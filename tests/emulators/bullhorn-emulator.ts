import { HttpEmulator, type EmulatorRequest, type EmulatorResponse, type LoggedRequest } from './http-emulator.ts';
import { BullhornOAuth, restError } from './bullhorn-oauth.ts';
import type { Row } from './bullhorn-query-syntax.ts';
import { BullhornStore, serveRest, type InjectedWriteFailure } from './bullhorn-rest-routes.ts';

/**
 * A strict Bullhorn for tests: OAuth server (`/oauth/authorize`, `/oauth/token`), REST login
 * (`/rest-services/login`) and the corporation's REST API (`/rest-services/{corpToken}/…`) on one
 * loopback server. Strict where Bullhorn is: unknown fields in `fields=` or in bodies, read-only fields,
 * wrong entity names (case-sensitive), malformed Lucene or where clauses → 400; a missing BhRestToken →
 * 412; an unknown, expired or revoked one → 401; used or revoked refresh tokens → invalid_grant. Loose
 * where Bullhorn's index is: a quoted phrase matches its words anywhere in a text field, so a search for
 * `"ana@customer.example"` also finds `x-ana@customer.example`.
 */

export interface PersonSeed {
  firstName: string;
  lastName: string;
  email: string;
  email2?: string;
  occupation?: string;
  status?: string;
  /** Free text the agent must never read. */
  comments?: string;
  description?: string;
  isDeleted?: boolean;
  dateLastModified?: number;
}

export interface ContactSeed extends PersonSeed {
  company?: string;
  dateLastVisit?: number;
}

export interface CandidateSeed extends PersonSeed {
  companyName?: string;
  salary?: number;
  dayRate?: number;
  hourlyRate?: number;
}

export class BullhornEmulator {
  readonly oauth = new BullhornOAuth();
  readonly store = new BullhornStore();
  readonly corpToken = 'e9x7q';
  readonly #http: HttpEmulator;
  readonly #failures: InjectedWriteFailure[] = [];
  #throttled = 0;
  #retryAfterSeconds = 1;
  #loginRestUrl: string | null = null;

  constructor() {
    this.#http = new HttpEmulator((request) => this.#handle(request));
  }

  get requests(): LoggedRequest[] {
    return this.#http.requests;
  }

  get url(): string {
    return this.#http.url;
  }

  /** The OAuth server root (what production reaches as https://auth.bullhornstaffing.com). */
  get authUrl(): string {
    return this.url;
  }

  get loginUrl(): string {
    return `${this.url}/rest-services/login`;
  }

  get restUrl(): string {
    return `${this.url}/rest-services/${this.corpToken}/`;
  }

  start(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.#http.start(options);
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  // ── test controls ──────────────────────────────────────────────────────────

  issueRefreshToken(): string {
    return this.oauth.issueRefreshToken();
  }

  revokeConsent(): void {
    this.oauth.revokeConsent();
  }

  /** Every BhRestToken times out (idle sessions do after their ttl). */
  expireSessions(): void {
    this.oauth.expireSessions();
  }

  expireAccessTokens(): void {
    this.oauth.expireAccessTokens();
  }

  /** Logins answer this restUrl instead of the emulator's own (a login answer pointing elsewhere); null restores it. */
  answerLoginsWithRestUrl(restUrl: string | null): void {
    this.#loginRestUrl = restUrl;
  }

  /** The next `count` REST calls get 429 with this Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void {
    this.#throttled = count;
    this.#retryAfterSeconds = retryAfterSeconds;
  }

  /** The next PUT/POST of `entity` fails with `status`; with `commit` the write happens first. */
  failNextWrite(failure: InjectedWriteFailure): void {
    this.#failures.push(failure);
  }

  // ── data ───────────────────────────────────────────────────────────────────

  addClientContact(seed: ContactSeed): number {
    const { company, ...person } = seed;
    const corporation = company === undefined ? null : { id: this.store.insert('ClientCorporation', { name: company, status: 'Active Account' }) };
    return this.store.insert('ClientContact', { name: `${seed.firstName} ${seed.lastName}`, status: 'Active', ...person, clientCorporation: corporation });
  }

  addCandidate(seed: CandidateSeed): number {
    return this.store.insert('Candidate', { name: `${seed.firstName} ${seed.lastName}`, status: 'Active', ...seed });
  }

  /** A Note written by a recruiter, linked to the person the way Bullhorn's UI does it. */
  addNote(personId: number, note: { action: string; comments: string; dateAdded: number }): number {
    const id = this.store.insert('Note', { personReference: { id: personId }, isDeleted: false, ...note });
    this.store.insert('NoteEntity', { note: { id }, targetEntityID: personId, targetEntityName: 'User' });
    return id;
  }

  notes(): Row[] {
    return this.store.rows('Note');
  }

  noteEntities(): Row[] {
    return this.store.rows('NoteEntity');
  }

  record(entity: string, id: number): Row | undefined {
    return this.store.get(entity, id);
  }

  /** Every `fields=` the REST API was asked for, for data-minimisation assertions. */
  requestedFields(): string[] {
    return this.requests.map((request) => request.query.get('fields')).filter((fields): fields is string => fields !== null);
  }

  // ── routing ────────────────────────────────────────────────────────────────

  #handle(request: EmulatorRequest): EmulatorResponse {
    const path = request.url.pathname;
    if (path === '/oauth/authorize') return this.oauth.authorize(request);
    if (path === '/oauth/token') return this.oauth.token(request);
    if (path === '/rest-services/login') return this.oauth.login(request, this.#loginRestUrl ?? this.restUrl);
    const [root, corp, ...segments] = path.split('/').filter((part) => part !== '');
    if (root !== 'rest-services' || corp === undefined) return restError(404, 'Not found', 'errors.notFound');
    if (corp !== this.corpToken) return restError(404, `Unknown corporation token '${corp.slice(0, 20)}'`, 'errors.notFound');
    const token = sessionToken(request);
    if (token === null) return restError(412, "Missing 'BhRestToken'", 'errors.authentication.missingRestToken');
    if (!this.oauth.useSession(token)) return restError(401, "Bad 'BhRestToken' or timed-out.", 'errors.authentication.invalidRestToken');
    if (this.#throttled > 0) {
      this.#throttled--;
      return restError(429, 'Too many requests', 'errors.tooManyRequests', { 'retry-after': String(this.#retryAfterSeconds) });
    }
    return serveRest(this.store, request, segments, this.#failures);
  }
}

/** The BhRestToken from its header, or from the query parameter (Bullhorn accepts both; names vary in case). */
function sessionToken(request: EmulatorRequest): string | null {
  const header = request.headers['bhresttoken'];
  if (typeof header === 'string' && header !== '') return header;
  for (const [name, value] of request.url.searchParams) if (name.toLowerCase() === 'bhresttoken' && value !== '') return value;
  return null;
}
