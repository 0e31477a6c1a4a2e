import type { HandlerContext, Route } from './backend.ts';
import { optionalInt } from './backend.ts';
import type { KvSecret, KvVersion } from './vault-state.ts';
import { dataResult, isoTime, noContent, type VaultResult } from './vault-response.ts';
import { badRequest, notFound, unsupportedOperation } from './vault-http-error.ts';

const DEFAULT_MAX_VERSIONS = 10;

function checkSecretPath(path: string, allowDirectory: boolean): string {
  if (path === '' && allowDirectory) return path;
  const segments = (allowDirectory && path.endsWith('/') ? path.slice(0, -1) : path).split('/');
  if (path === '' || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw badRequest(`invalid secret path ${JSON.stringify(path.slice(0, 128))}`);
  }
  return path;
}

function versionMetadata(
  version: KvVersion,
  number: number,
  customMetadata = false,
): Record<string, unknown> {
  return {
    created_time: isoTime(version.createdAt),
    ...(customMetadata ? { custom_metadata: null } : {}),
    deletion_time: version.deletedAt === null ? '' : isoTime(version.deletedAt),
    destroyed: version.destroyed,
    version: number,
  };
}

function versionList(body: Record<string, unknown>): number[] {
  const versions = body['versions'];
  if (
    !Array.isArray(versions) ||
    versions.length === 0 ||
    versions.some((v) => !Number.isInteger(v) || (v as number) < 1)
  ) {
    throw badRequest('no version number provided');
  }
  return versions as number[];
}

/** A KV version 2 secrets engine over one mount's slice of the state. */
/** Metadata of a secret that has no version yet. */
function emptySecret(now: KvSecret['createdAt']): KvSecret {
  return { createdAt: now, updatedAt: now, currentVersion: 0, oldestVersion: 0, maxVersions: 0, casRequired: false, versions: {} };
}

export class KvV2Engine {
  private readonly secrets: Record<string, KvSecret>;

  constructor(secrets: Record<string, KvSecret>) {
    this.secrets = secrets;
  }

  route(subpath: string): Route | null {
    const [kind, ...rest] = subpath.split('/');
    const path = rest.join('/');
    switch (kind) {
      case 'config':
        return rest.length === 0
          ? {
              handle: (ctx) => (
                this.only(ctx, 'read'),
                dataResult({ cas_required: false, delete_version_after: '0s', max_versions: 0 })
              ),
            }
          : null;
      case 'data':
        return {
          exists: () => (this.secrets[path]?.currentVersion ?? 0) > 0,
          handle: (ctx) => this.data(ctx, checkSecretPath(path, false)),
        };
      case 'metadata':
        return { exists: () => this.secrets[path] !== undefined, handle: (ctx) => this.metadata(ctx, path) };
      case 'delete':
        return { handle: (ctx) => this.markVersions(ctx, checkSecretPath(path, false), 'delete') };
      case 'undelete':
        return { handle: (ctx) => this.markVersions(ctx, checkSecretPath(path, false), 'undelete') };
      case 'destroy':
        return { handle: (ctx) => this.markVersions(ctx, checkSecretPath(path, false), 'destroy') };
      default:
        return null;
    }
  }

  private only(ctx: HandlerContext, ...operations: HandlerContext['operation'][]): void {
    if (!operations.includes(ctx.operation)) throw unsupportedOperation();
  }

  private data(ctx: HandlerContext, path: string): VaultResult {
    const secret = this.secrets[path];
    if (ctx.operation === 'read') {
      const raw = ctx.query.get('version');
      const wanted = raw === null || raw === '' || raw === '0' ? secret?.currentVersion : Number(raw);
      const version = wanted === undefined ? undefined : secret?.versions[String(wanted)];
      if (
        !secret ||
        wanted === undefined ||
        !version ||
        version.deletedAt !== null ||
        version.destroyed ||
        version.data === null
      )
        throw notFound();
      return dataResult({ data: version.data, metadata: versionMetadata(version, wanted, true) });
    }
    if (ctx.operation === 'delete') {
      const latest = secret?.versions[String(secret.currentVersion)];
      if (latest && latest.deletedAt === null) latest.deletedAt = ctx.now;
      return noContent();
    }
    this.only(ctx, 'create', 'update');
    const data = ctx.body['data'];
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw badRequest('no data provided');
    const rawOptions = ctx.body['options'] ?? {};
    // As Vault's map field: anything but an object is refused, never read as "no check-and-set".
    if (typeof rawOptions !== 'object' || Array.isArray(rawOptions)) throw badRequest('options must be an object');
    const options = rawOptions as Record<string, unknown>;
    const cas = optionalInt(options, 'cas');
    const current = secret?.currentVersion ?? 0;
    if (cas === undefined && secret?.casRequired)
      throw badRequest('check-and-set parameter required for this call');
    if (cas !== undefined && cas !== current)
      throw badRequest('check-and-set parameter did not match the current version');
    const entry: KvSecret = secret ?? emptySecret(ctx.now);
    const number = current + 1;
    const version: KvVersion = {
      createdAt: ctx.now,
      deletedAt: null,
      destroyed: false,
      data: data as Record<string, unknown>,
    };
    entry.versions[String(number)] = version;
    entry.currentVersion = number;
    entry.updatedAt = ctx.now;
    if (entry.oldestVersion === 0) entry.oldestVersion = number;
    const keep = entry.maxVersions > 0 ? entry.maxVersions : DEFAULT_MAX_VERSIONS;
    while (number - entry.oldestVersion + 1 > keep) {
      delete entry.versions[String(entry.oldestVersion)];
      entry.oldestVersion++;
    }
    this.secrets[path] = entry;
    return dataResult(versionMetadata(version, number, true));
  }

  private metadata(ctx: HandlerContext, path: string): VaultResult {
    if (ctx.operation === 'list') {
      const prefix = checkSecretPath(path, true);
      if (prefix !== '' && !prefix.endsWith('/')) return this.list(`${prefix}/`);
      return this.list(prefix);
    }
    checkSecretPath(path, false);
    const secret = this.secrets[path];
    if (ctx.operation === 'read') {
      if (!secret) throw notFound();
      const versions: Record<string, unknown> = {};
      for (const [number, version] of Object.entries(secret.versions)) {
        const { version: _drop, ...rest } = versionMetadata(version, Number(number));
        versions[number] = rest;
      }
      return dataResult({
        cas_required: secret.casRequired,
        created_time: isoTime(secret.createdAt),
        current_version: secret.currentVersion,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: secret.maxVersions,
        oldest_version: secret.oldestVersion,
        updated_time: isoTime(secret.updatedAt),
        versions,
      });
    }
    if (ctx.operation === 'delete') {
      delete this.secrets[path];
      return noContent();
    }
    this.only(ctx, 'create', 'update');
    const entry: KvSecret = secret ?? emptySecret(ctx.now);
    entry.maxVersions = optionalInt(ctx.body, 'max_versions') ?? entry.maxVersions;
    const casRequired = ctx.body['cas_required'];
    if (typeof casRequired === 'boolean') entry.casRequired = casRequired;
    entry.updatedAt = ctx.now;
    this.secrets[path] = entry;
    return noContent();
  }

  private list(prefix: string): VaultResult {
    const keys = new Set<string>();
    for (const path of Object.keys(this.secrets)) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    if (keys.size === 0) throw notFound();
    return dataResult({ keys: [...keys].sort() });
  }

  private markVersions(
    ctx: HandlerContext,
    path: string,
    action: 'delete' | 'undelete' | 'destroy',
  ): VaultResult {
    this.only(ctx, 'create', 'update');
    const numbers = versionList(ctx.body);
    const secret = this.secrets[path];
    if (!secret) return noContent();
    for (const number of numbers) {
      const version = secret.versions[String(number)];
      if (!version) continue;
      if (action === 'delete' && version.deletedAt === null) version.deletedAt = ctx.now;
      if (action === 'undelete' && !version.destroyed) version.deletedAt = null;
      if (action === 'destroy') {
        version.destroyed = true;
        version.data = null;
      }
    }
    return noContent();
  }
}
