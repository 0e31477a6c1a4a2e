import type { Operation } from './acl.ts';
import type { Caller, Route } from './backend.ts';
import { parseDurationSeconds } from './durations.ts';
import { KvV2Engine } from './kv-v2-engine.ts';
import { PolicyRegistry } from './policy-registry.ts';
import { SystemBackend } from './system-backend.ts';
import { TokenBackend } from './token-backend.ts';
import { TokenStore } from './token-store.ts';
import { TransitEngine } from './transit-engine.ts';
import { dictionary, type VaultState } from './vault-state.ts';
import type { VaultResult } from './vault-response.ts';
import { badRequest, permissionDenied, unsupportedOperation, VaultHttpError } from './vault-http-error.ts';
import { WrapStore } from './wrap-store.ts';

/** A request as the HTTP layer hands it over: path without `/v1/`, JSON body already parsed. */
export interface VaultRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  token: string | undefined;
  wrapTtl: string | undefined;
}

export interface VaultOutcome {
  /** The answer, or the Vault error to answer with. */
  result: VaultResult | VaultHttpError;
  /** Accessor of the token that made the request (for the request log), also for recently revoked tokens. */
  accessor: string | null;
  /** Whether the request may have changed state, so it must be persisted before answering. */
  mutated: boolean;
}

const TRUE_VALUES = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Whether the request lists (`LIST`, or `GET ?list=` with a Go ParseBool true); Vault refuses other values. */
function isList(method: string, query: URLSearchParams): boolean {
  if (method === 'LIST') return true;
  const raw = query.get('list');
  if (method !== 'GET' || raw === null || raw === '') return false;
  if (!TRUE_VALUES.has(raw) && !FALSE_VALUES.has(raw)) throw badRequest('invalid value for list parameter');
  return TRUE_VALUES.has(raw);
}
const UNWRAP_PATH = 'sys/wrapping/unwrap';
const MAX_WRAP_TTL_SECONDS = 768 * 3600;

function operationOf(method: string, query: URLSearchParams, route: Route | null): Operation {
  switch (method) {
    case 'GET':
      return isList(method, query) ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return route?.exists && !route.exists() ? 'create' : 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      throw unsupportedOperation();
  }
}

function checkPath(path: string): void {
  const inner = path.endsWith('/') ? path.slice(0, -1) : path;
  if (
    path === '' ||
    inner.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw badRequest('invalid request path');
  }
}

function parseWrapTtl(header: string | undefined): number | undefined {
  const ttl = parseDurationSeconds(header, 'X-Vault-Wrap-TTL');
  if (ttl !== undefined && (ttl < 1 || ttl > MAX_WRAP_TTL_SECONDS))
    throw badRequest('wrap ttl must be between 1s and 768h');
  return ttl;
}

/**
 * Routes a request to its backend the way Vault does: authenticate the token, decide the operation
 * (create vs update from the route's existence check), check the ACL (403 otherwise), run the handler,
 * and wrap the response when `X-Vault-Wrap-TTL` asks for it.
 */
export class VaultCore {
  private readonly state: VaultState;
  readonly tokens: TokenStore;
  private readonly policies: PolicyRegistry;
  private readonly wraps: WrapStore;
  private readonly system: SystemBackend;
  private readonly tokenBackend: TokenBackend;

  constructor(state: VaultState) {
    this.state = state;
    this.tokens = new TokenStore(state);
    this.policies = new PolicyRegistry(state);
    this.wraps = new WrapStore(state, this.tokens);
    this.system = new SystemBackend(state, this.policies, this.wraps);
    this.tokenBackend = new TokenBackend(state, this.tokens);
  }

  private route(path: string): Route | null {
    if (path.startsWith('sys/')) return this.system.route(path.slice(4));
    if (path.startsWith('auth/token/')) return this.tokenBackend.route(path.slice('auth/token/'.length));
    const mountPath = Object.keys(this.state.mounts)
      .filter((mount) => path.startsWith(mount))
      .sort((a, b) => b.length - a.length)[0];
    if (mountPath === undefined) return null;
    const mount = this.state.mounts[mountPath];
    const sub = path.slice(mountPath.length);
    if (mount?.type === 'kv') return new KvV2Engine((this.state.kv[mountPath] ??= dictionary())).route(sub);
    if (mount?.type === 'transit')
      return new TransitEngine((this.state.transit[mountPath] ??= dictionary())).route(sub);
    return null;
  }

  private authenticate(token: string | undefined, now: number): Caller {
    if (token === undefined || token === '') throw permissionDenied();
    const record = this.tokens.lookup(token, now);
    if (!record) throw permissionDenied();
    return { token, record, acl: this.policies.aclFor(record.policies) };
  }

  /** Revokes expired tokens (with their children and wrapped responses); true when anything went. */
  purgeExpired(now: number): boolean {
    return this.tokens.purgeExpired(now);
  }

  handle(request: VaultRequest, now: number): VaultOutcome {
    let accessor: string | null = null;
    // Expiry takes effect before the request is looked at, as Vault's expiration manager would have.
    const purged = this.purgeExpired(now);
    let mutated = purged;
    try {
      checkPath(request.path);
      // Checked before anything runs: a refused header must not leave a created token or a written secret.
      const wrapTtl = parseWrapTtl(request.wrapTtl);
      // Vault lists a directory: `secret/metadata/a` lists as `secret/metadata/a/`, for the ACL too.
      if (isList(request.method, request.query) && !request.path.endsWith('/'))
        request = { ...request, path: `${request.path}/` };
      const route = this.route(request.path);
      const operation = operationOf(request.method, request.query, route);
      mutated = purged || (operation !== 'read' && operation !== 'list');

      if (request.path === UNWRAP_PATH && (operation === 'update' || operation === 'create')) {
        const bodyToken = request.body['token'];
        if (typeof bodyToken === 'string' && bodyToken !== '') {
          const caller = this.authenticate(request.token, now);
          accessor = caller.record.accessor;
          if (!caller.acl.allows(UNWRAP_PATH, 'update')) throw permissionDenied();
          return { result: this.wraps.unwrap(bodyToken, now), accessor, mutated };
        }
        if (request.token === undefined || request.token === '') throw permissionDenied();
        accessor = this.tokens.lookup(request.token, now)?.accessor ?? null;
        return { result: this.wraps.unwrap(request.token, now), accessor, mutated };
      }

      let caller: Caller | null = null;
      if (!route?.unauthenticated) {
        caller = this.authenticate(request.token, now);
        accessor = caller.record.accessor;
        if (!caller.acl.allows(request.path, operation, route?.sudo ?? false)) throw permissionDenied();
      }
      if (!route) {
        throw new VaultHttpError(
          404,
          `no handler for route ${JSON.stringify(request.path)}. route entry not found.`,
        );
      }
      let result = route.handle({ operation, body: request.body, query: request.query, caller, now });
      if (caller && caller.record.numUses > 0) {
        caller.record.numUses--;
        if (caller.record.numUses === 0) this.tokens.revokeToken(caller.token);
        mutated = true;
      }
      // Only an authenticated caller's answer is wrapped: unauthenticated endpoints (sys/health, wrapping
      // lookup) are not, or anyone reaching the listener could fill the persisted state with wraps.
      if (wrapTtl !== undefined && caller && result.status === 200 && !request.path.startsWith('sys/wrapping/')) {
        result = this.wraps.wrap(result.body, request.path, wrapTtl, now);
        mutated = true;
      }
      return { result, accessor, mutated };
    } catch (error) {
      if (!(error instanceof VaultHttpError)) throw error;
      return {
        result: error,
        accessor: accessor ?? this.tokens.revokedAccessor(request.token),
        mutated: purged,
      };
    }
  }
}
