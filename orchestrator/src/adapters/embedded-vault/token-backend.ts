import type { Route, HandlerContext, Caller } from './backend.ts';
import {
  checkName,
  optionalBool,
  optionalInt,
  optionalString,
  requiredString,
  stringList,
} from './backend.ts';
import { parseDurationSeconds } from './durations.ts';
import type { TokenRecord, TokenRole, VaultState } from './vault-state.ts';
import { MAX_TTL_SECONDS, type TokenStore } from './token-store.ts';
import { authResult, dataResult, noContent, type VaultResult } from './vault-response.ts';
import { badRequest, permissionDenied, unsupportedOperation } from './vault-http-error.ts';
import { RESPONSE_WRAPPING_POLICY } from './policy-registry.ts';

/** The stricter of two limits where 0 means "none". */
const lesserLimit = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

function requireCaller(ctx: HandlerContext): Caller {
  if (!ctx.caller) throw permissionDenied();
  return ctx.caller;
}

function only(ctx: HandlerContext, ...operations: HandlerContext['operation'][]): void {
  if (!operations.includes(ctx.operation)) throw unsupportedOperation();
}

/** `auth/token/*`: token creation (plain, orphan, by role), lookup, renewal, revocation and roles. */
export class TokenBackend {
  private readonly state: VaultState;
  private readonly tokens: TokenStore;

  constructor(state: VaultState, tokens: TokenStore) {
    this.state = state;
    this.tokens = tokens;
  }

  route(subpath: string): Route | null {
    switch (subpath) {
      case 'create':
        return { handle: (ctx) => this.create(ctx, 'create', null) };
      case 'create-orphan':
        return { handle: (ctx) => this.create(ctx, 'create-orphan', null) };
      case 'lookup-self':
        return { handle: (ctx) => this.lookupSelf(ctx) };
      case 'lookup':
        return { handle: (ctx) => this.lookup(ctx) };
      case 'lookup-accessor':
        return { handle: (ctx) => this.lookupAccessor(ctx) };
      case 'renew-self':
        return { handle: (ctx) => this.renew(ctx, requireCaller(ctx).record, requireCaller(ctx).token) };
      case 'renew':
        return {
          handle: (ctx) => {
            const token = requiredString(ctx.body, 'token');
            const record = this.tokens.lookup(token, ctx.now);
            if (!record) throw badRequest('invalid token');
            return this.renew(ctx, record, token);
          },
        };
      case 'revoke-self':
        return {
          handle: (ctx) => (
            only(ctx, 'update', 'create'),
            this.tokens.revokeToken(requireCaller(ctx).token),
            noContent()
          ),
        };
      case 'revoke':
        return {
          handle: (ctx) => (
            only(ctx, 'update', 'create'),
            this.tokens.revokeToken(requiredString(ctx.body, 'token')),
            noContent()
          ),
        };
      case 'revoke-accessor':
        return {
          handle: (ctx) => {
            only(ctx, 'update', 'create');
            if (!this.tokens.revokeAccessor(requiredString(ctx.body, 'accessor')))
              throw badRequest('invalid accessor');
            return noContent();
          },
        };
      case 'accessors':
      case 'accessors/':
        return {
          sudo: true,
          handle: (ctx) => (
            only(ctx, 'list'),
            dataResult({ keys: Object.keys(this.state.accessors).sort() })
          ),
        };
      case 'roles':
      case 'roles/':
        return {
          handle: (ctx) => (only(ctx, 'list'), dataResult({ keys: Object.keys(this.state.roles).sort() })),
        };
    }
    const role = /^roles\/([^/]+)$/.exec(subpath)?.[1];
    if (role !== undefined) {
      return {
        exists: () => this.state.roles[role] !== undefined,
        handle: (ctx) => this.roleEndpoint(ctx, checkName('role', role)),
      };
    }
    const createRole = /^create\/([^/]+)$/.exec(subpath)?.[1];
    if (createRole !== undefined)
      return { handle: (ctx) => this.create(ctx, `create/${createRole}`, createRole) };
    return null;
  }

  private create(ctx: HandlerContext, kind: string, roleName: string | null): VaultResult {
    only(ctx, 'update', 'create');
    const caller = requireCaller(ctx);
    const parent = caller.record;
    const parentIsRoot = parent.policies.includes('root');
    const isSudo = parentIsRoot || caller.acl.allows(`auth/token/${kind}`, 'update', true);
    const body = ctx.body;
    const role: TokenRole | null = roleName === null ? null : (this.state.roles[roleName] ?? null);
    if (roleName !== null && !role) throw badRequest(`unknown role ${roleName}`);
    // A use-limited token creating children would escape its limit (Vault refuses the same).
    if (parent.numUses > 0) throw badRequest('restricted use token cannot generate child tokens');

    const requested = stringList(body, 'policies');
    let policies: string[];
    if (role) {
      policies = requested ?? role.allowedPolicies;
      const outside = policies.filter((p) => p !== 'default' && !role.allowedPolicies.includes(p));
      if (outside.length > 0)
        throw badRequest(
          `token policies (${outside.join(', ')}) must be subset of the role's allowed policies`,
        );
    } else {
      policies = requested ?? parent.policies.filter((p) => p !== 'default');
      if (!parentIsRoot && policies.some((p) => p !== 'default' && !parent.policies.includes(p))) {
        throw badRequest('child policies must be subset of parent');
      }
    }
    if (policies.includes(RESPONSE_WRAPPING_POLICY))
      throw badRequest(`cannot assign policy ${JSON.stringify(RESPONSE_WRAPPING_POLICY)}`);
    if (policies.includes('root') && !parentIsRoot)
      throw badRequest('root tokens may not be created from a non-root token');
    const noDefault = optionalBool(body, 'no_default_policy', false) || (role?.noDefaultPolicy ?? false);
    if (!noDefault && !policies.includes('root') && !policies.includes('default'))
      policies = [...policies, 'default'].sort();
    if (policies.length === 0) throw badRequest('token must have at least one policy');

    let orphan = kind === 'create-orphan' || (role?.orphan ?? false);
    if (kind === 'create' && optionalBool(body, 'no_parent', false)) {
      if (!parentIsRoot && !caller.acl.allows('auth/token/create', 'update', true)) {
        throw badRequest('root or sudo privileges required to create orphan token');
      }
      orphan = true;
    }

    // A role's limits hold against the request: the lesser explicit max TTL and period win, and a
    // request may not make a role's non-renewable tokens renewable (Vault's handleCreateCommon).
    const requestedPeriod = parseDurationSeconds(body['period'], 'period') ?? 0;
    if (requestedPeriod > 0 && !isSudo)
      throw badRequest('root or sudo privileges required to create periodic token');
    const explicitMaxTtl = lesserLimit(
      parseDurationSeconds(body['explicit_max_ttl'], 'explicit_max_ttl') ?? 0,
      role?.explicitMaxTtl ?? 0,
    );
    const period = lesserLimit(requestedPeriod, role?.period ?? 0);
    let ttl: number;
    if (period > 0) {
      ttl = period;
    } else {
      // 0 asks for the default, as in Vault.
      ttl = parseDurationSeconds(body['ttl'], 'ttl') || (role && role.ttl > 0 ? role.ttl : MAX_TTL_SECONDS);
      ttl = Math.min(ttl, MAX_TTL_SECONDS);
      if (!orphan && parent.expiresAt !== null)
        ttl = Math.min(ttl, Math.floor((parent.expiresAt - ctx.now) / 1000));
    }
    if (explicitMaxTtl > 0) ttl = Math.min(ttl, explicitMaxTtl);
    if (ttl <= 0) throw badRequest('token ttl must be positive');
    const meta = body['meta'];
    if (
      meta !== undefined &&
      meta !== null &&
      (typeof meta !== 'object' ||
        Array.isArray(meta) ||
        Object.values(meta).some((v) => typeof v !== 'string'))
    ) {
      throw badRequest('meta must be a map of strings');
    }
    const renewable = optionalBool(body, 'renewable', true) && (role?.renewable ?? true);
    const { token, record } = this.tokens.create(
      {
        policies,
        creationTtl: ttl,
        expiresAt: ctx.now + ttl * 1000,
        period: period > 0 ? period : null,
        explicitMaxTtl,
        renewable,
        orphan,
        parentAccessor: orphan ? null : parent.accessor,
        displayName: `token${optionalString(body, 'display_name') ? `-${optionalString(body, 'display_name')}` : ''}`,
        meta: (meta ?? {}) as Record<string, string>,
        numUses: optionalInt(body, 'num_uses') ?? 0,
        path: `auth/token/${kind}`,
        role: roleName,
      },
      ctx.now,
    );
    return authResult(this.tokens.authBlock(token, record, ctx.now));
  }

  private lookupSelf(ctx: HandlerContext): VaultResult {
    only(ctx, 'read', 'update', 'create');
    const caller = requireCaller(ctx);
    return dataResult(this.tokens.lookupData(caller.token, caller.record, ctx.now));
  }

  private lookup(ctx: HandlerContext): VaultResult {
    only(ctx, 'update', 'create');
    const token = requiredString(ctx.body, 'token');
    const record = this.tokens.lookup(token, ctx.now);
    if (!record) throw badRequest('bad token');
    return dataResult(this.tokens.lookupData(token, record, ctx.now));
  }

  private lookupAccessor(ctx: HandlerContext): VaultResult {
    only(ctx, 'update', 'create');
    const record = this.tokens.lookupAccessor(requiredString(ctx.body, 'accessor'), ctx.now);
    if (!record) throw badRequest('invalid accessor');
    return dataResult(this.tokens.lookupData('', record, ctx.now));
  }

  private renew(ctx: HandlerContext, record: TokenRecord, token: string): VaultResult {
    only(ctx, 'update', 'create');
    if (!record.renewable) throw badRequest('lease is not renewable');
    const increment = parseDurationSeconds(ctx.body['increment'], 'increment');
    this.tokens.renew(record, increment, ctx.now);
    return authResult(this.tokens.authBlock(token, record, ctx.now));
  }

  private roleEndpoint(ctx: HandlerContext, name: string): VaultResult {
    if (ctx.operation === 'read') {
      const role = this.state.roles[name];
      if (!role) throw badRequest(`role ${name} not found`);
      return dataResult({
        name,
        allowed_policies: role.allowedPolicies,
        disallowed_policies: [],
        orphan: role.orphan,
        renewable: role.renewable,
        token_period: role.period,
        period: role.period,
        token_no_default_policy: role.noDefaultPolicy,
        token_explicit_max_ttl: role.explicitMaxTtl,
        token_ttl: role.ttl,
        path_suffix: '',
        token_type: 'default-service',
      });
    }
    if (ctx.operation === 'delete') {
      delete this.state.roles[name];
      return noContent();
    }
    only(ctx, 'create', 'update');
    const body = ctx.body;
    const existing = this.state.roles[name];
    this.state.roles[name] = {
      allowedPolicies: stringList(body, 'allowed_policies') ?? existing?.allowedPolicies ?? [],
      orphan: optionalBool(body, 'orphan', existing?.orphan ?? false),
      period:
        parseDurationSeconds(body['token_period'] ?? body['period'], 'token_period') ?? existing?.period ?? 0,
      renewable: optionalBool(body, 'renewable', existing?.renewable ?? true),
      noDefaultPolicy: optionalBool(body, 'token_no_default_policy', existing?.noDefaultPolicy ?? false),
      explicitMaxTtl:
        parseDurationSeconds(
          body['token_explicit_max_ttl'] ?? body['explicit_max_ttl'],
          'token_explicit_max_ttl',
        ) ??
        existing?.explicitMaxTtl ??
        0,
      ttl: parseDurationSeconds(body['token_ttl'], 'token_ttl') ?? existing?.ttl ?? 0,
    };
    return noContent();
  }
}
