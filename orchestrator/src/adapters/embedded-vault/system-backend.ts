import { randomBytes, randomUUID } from 'node:crypto';
import type { HandlerContext, Route } from './backend.ts';
import { checkName, requiredString } from './backend.ts';
import type { PolicyRegistry } from './policy-registry.ts';
import { dictionary, type MountRecord, type VaultState } from './vault-state.ts';
import { dataResult, noContent, type VaultResult } from './vault-response.ts';
import { badRequest, notFound, unsupportedOperation } from './vault-http-error.ts';
import type { WrapStore } from './wrap-store.ts';

const RESERVED_MOUNTS = ['sys/', 'auth/', 'cubbyhole/', 'identity/'];
export const EMBEDDED_VERSION = '1.15.0+agent-fleet-embedded';

function only(ctx: HandlerContext, ...operations: HandlerContext['operation'][]): void {
  if (!operations.includes(ctx.operation)) throw unsupportedOperation();
}

function mountView(mount: MountRecord): Record<string, unknown> {
  return {
    accessor: mount.accessor,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    description: mount.description,
    external_entropy_access: false,
    local: false,
    options: Object.keys(mount.options).length > 0 ? mount.options : null,
    plugin_version: '',
    running_plugin_version: '',
    seal_wrap: false,
    type: mount.type,
    uuid: mount.uuid,
  };
}

/** `sys/*`: health, mounts, ACL policies and wrapping lookup (unwrap is handled by the router). */
export class SystemBackend {
  private readonly state: VaultState;
  private readonly policies: PolicyRegistry;
  private readonly wraps: WrapStore;
  private readonly clusterId = randomUUID();

  constructor(state: VaultState, policies: PolicyRegistry, wraps: WrapStore) {
    this.state = state;
    this.policies = policies;
    this.wraps = wraps;
  }

  route(subpath: string): Route | null {
    if (subpath === 'health') return { unauthenticated: true, handle: (ctx) => this.health(ctx) };
    if (subpath === 'wrapping/lookup') {
      return {
        unauthenticated: true,
        handle: (ctx) => (
          only(ctx, 'update', 'create'),
          this.wraps.lookup(requiredString(ctx.body, 'token'), ctx.now)
        ),
      };
    }
    if (subpath === 'mounts') return { handle: (ctx) => (only(ctx, 'read'), this.listMounts()) };
    const mount = /^mounts\/(.+?)\/?$/.exec(subpath)?.[1];
    if (mount !== undefined)
      return {
        exists: () => this.state.mounts[`${mount}/`] !== undefined,
        handle: (ctx) => this.mountEndpoint(ctx, mount),
      };
    if (subpath === 'policies/acl' || subpath === 'policies/acl/') {
      return {
        handle: (ctx) => (
          only(ctx, 'list'),
          dataResult({ keys: [...Object.keys(this.state.policies), 'root'].sort() })
        ),
      };
    }
    const policy = /^policies\/acl\/([^/]+)$/.exec(subpath)?.[1];
    if (policy !== undefined) {
      const name = policy.toLowerCase();
      return {
        exists: () => this.state.policies[name] !== undefined,
        handle: (ctx) => this.policyEndpoint(ctx, checkName('policy', name)),
      };
    }
    return null;
  }

  private health(ctx: HandlerContext): VaultResult {
    only(ctx, 'read');
    // Vault's health answer is a bare object, not the usual envelope.
    return {
      status: 200,
      body: {
        initialized: true,
        sealed: false,
        standby: false,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(ctx.now / 1000),
        version: EMBEDDED_VERSION,
        cluster_name: 'agent-fleet-embedded',
        cluster_id: this.clusterId,
      },
    };
  }

  private listMounts(): VaultResult {
    const mounts: Record<string, unknown> = {
      'sys/': {
        type: 'system',
        description: 'system endpoints used for control, policy and debugging',
        options: null,
        local: false,
        seal_wrap: false,
      },
    };
    for (const [path, mount] of Object.entries(this.state.mounts)) mounts[path] = mountView(mount);
    return dataResult(mounts, mounts);
  }

  private mountEndpoint(ctx: HandlerContext, rawPath: string): VaultResult {
    const path = `${rawPath}/`;
    if (!/^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*\/$/.test(path))
      throw badRequest(`invalid mount path ${JSON.stringify(rawPath.slice(0, 64))}`);
    if (RESERVED_MOUNTS.some((reserved) => path.startsWith(reserved)))
      throw badRequest(`cannot mount under reserved path ${JSON.stringify(path)}`);
    const existing = this.state.mounts[path];
    if (ctx.operation === 'read') {
      if (!existing) throw badRequest(`no mount at ${path}`);
      return dataResult(mountView(existing));
    }
    if (ctx.operation === 'delete') {
      delete this.state.mounts[path];
      delete this.state.kv[path];
      delete this.state.transit[path];
      return noContent();
    }
    only(ctx, 'create', 'update');
    const overlapping = Object.keys(this.state.mounts).find(
      (other) => other.startsWith(path) || path.startsWith(other),
    );
    if (overlapping) throw badRequest(`path is already in use at ${overlapping}`);
    const type = requiredString(ctx.body, 'type');
    const options = (ctx.body['options'] ?? {}) as Record<string, unknown>;
    const version = String(options['version'] ?? '');
    let mount: MountRecord;
    if (type === 'kv-v2' || (type === 'kv' && version === '2')) {
      mount = {
        type: 'kv',
        description: '',
        accessor: `kv_${randomBytes(4).toString('hex')}`,
        uuid: randomUUID(),
        options: { version: '2' },
      };
      this.state.kv[path] = dictionary();
    } else if (type === 'transit') {
      mount = {
        type: 'transit',
        description: '',
        accessor: `transit_${randomBytes(4).toString('hex')}`,
        uuid: randomUUID(),
        options: {},
      };
      this.state.transit[path] = dictionary();
    } else {
      throw badRequest(
        `unsupported secrets engine ${JSON.stringify(type)}: the embedded store serves kv-v2 and transit only`,
      );
    }
    const description = ctx.body['description'];
    if (typeof description === 'string') mount.description = description.slice(0, 256);
    this.state.mounts[path] = mount;
    return noContent();
  }

  private policyEndpoint(ctx: HandlerContext, name: string): VaultResult {
    if (ctx.operation === 'read') {
      const text = name === 'root' ? '' : this.state.policies[name];
      if (text === undefined) throw notFound();
      return dataResult({ name, policy: text }, { name, policy: text });
    }
    if (name === 'root') throw badRequest(`cannot update "root" policy`);
    if (ctx.operation === 'delete') {
      if (name === 'default') throw badRequest(`cannot delete "default" policy`);
      delete this.state.policies[name];
      return noContent();
    }
    only(ctx, 'create', 'update');
    this.policies.put(name, requiredString(ctx.body, 'policy'));
    return noContent();
  }
}
