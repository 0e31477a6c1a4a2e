import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { HandlerContext, Route } from './backend.ts';
import { checkName, optionalBool, optionalInt, optionalString, requiredString } from './backend.ts';
import type { TransitKey } from './vault-state.ts';
import { dataResult, noContent, type VaultResult } from './vault-response.ts';
import { badRequest, notFound, unsupportedOperation } from './vault-http-error.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CIPHERTEXT_PATTERN = /^vault:v(\d+):([A-Za-z0-9+/=]+)$/;

function only(ctx: HandlerContext, ...operations: HandlerContext['operation'][]): void {
  if (!operations.includes(ctx.operation)) throw unsupportedOperation();
}

function decodeBase64(value: string, field: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    throw badRequest(`failed to base64-decode ${field}`);
  return Buffer.from(value, 'base64');
}

/** A transit secrets engine (aes256-gcm96 keys only) over one mount's slice of the state. */
export class TransitEngine {
  private readonly keys: Record<string, TransitKey>;

  constructor(keys: Record<string, TransitKey>) {
    this.keys = keys;
  }

  route(subpath: string): Route | null {
    if (subpath === 'keys' || subpath === 'keys/')
      return { handle: (ctx) => (only(ctx, 'list'), this.listKeys()) };
    let match = /^keys\/([^/]+)$/.exec(subpath);
    if (match?.[1] !== undefined) {
      const name = match[1];
      return {
        exists: () => this.keys[name] !== undefined,
        handle: (ctx) => this.keyEndpoint(ctx, checkName('key', name)),
      };
    }
    match = /^keys\/([^/]+)\/(rotate|config)$/.exec(subpath);
    if (match?.[1] !== undefined) {
      const [, name, action] = match;
      return { handle: (ctx) => (action === 'rotate' ? this.rotate(ctx, name) : this.config(ctx, name)) };
    }
    match = /^(encrypt|decrypt|rewrap)\/([^/]+)$/.exec(subpath);
    if (match?.[2] !== undefined) {
      const [, action, name] = match;
      // Encrypting with a missing key creates it (Vault's upsert), which needs `create` in a policy.
      if (action === 'encrypt')
        return {
          exists: () => this.keys[name] !== undefined,
          handle: (ctx) => this.encrypt(ctx, checkName('key', name)),
        };
      return { handle: (ctx) => (action === 'decrypt' ? this.decrypt(ctx, name) : this.rewrap(ctx, name)) };
    }
    match = /^datakey\/(plaintext|wrapped)\/([^/]+)$/.exec(subpath);
    if (match?.[2] !== undefined) {
      const [, kind, name] = match;
      return { handle: (ctx) => this.dataKey(ctx, name, kind === 'plaintext') };
    }
    return null;
  }

  private listKeys(): VaultResult {
    const keys = Object.keys(this.keys).sort();
    if (keys.length === 0) throw notFound();
    return dataResult({ keys });
  }

  private key(name: string): TransitKey {
    const key = this.keys[name];
    if (!key) throw badRequest('encryption key not found');
    return key;
  }

  private createKey(name: string, now: number): TransitKey {
    const key: TransitKey = {
      type: 'aes256-gcm96',
      latestVersion: 1,
      minDecryptionVersion: 1,
      minEncryptionVersion: 0,
      deletionAllowed: false,
      versions: { '1': { key: randomBytes(32).toString('base64'), createdAt: now } },
    };
    this.keys[name] = key;
    return key;
  }

  private keyEndpoint(ctx: HandlerContext, name: string): VaultResult {
    const key = this.keys[name];
    if (ctx.operation === 'read') {
      if (!key) throw notFound();
      const versions: Record<string, number> = {};
      for (const [version, entry] of Object.entries(key.versions))
        versions[version] = Math.floor(entry.createdAt / 1000);
      return dataResult({
        name,
        type: key.type,
        keys: versions,
        latest_version: key.latestVersion,
        min_available_version: 0,
        min_decryption_version: key.minDecryptionVersion,
        min_encryption_version: key.minEncryptionVersion,
        deletion_allowed: key.deletionAllowed,
        derived: false,
        exportable: false,
        allow_plaintext_backup: false,
        auto_rotate_period: 0,
        imported_key: false,
        supports_encryption: true,
        supports_decryption: true,
        supports_derivation: true,
        supports_signing: false,
      });
    }
    if (ctx.operation === 'delete') {
      if (!key) return noContent();
      if (!key.deletionAllowed) throw badRequest('deletion is not allowed for this key');
      delete this.keys[name];
      return noContent();
    }
    only(ctx, 'create', 'update');
    const type = optionalString(ctx.body, 'type') ?? 'aes256-gcm96';
    if (type !== 'aes256-gcm96')
      throw badRequest(
        `unsupported key type ${JSON.stringify(type)}: the embedded store serves aes256-gcm96 only`,
      );
    if (optionalBool(ctx.body, 'derived', false) || optionalBool(ctx.body, 'exportable', false)) {
      throw badRequest('derived and exportable keys are not supported by the embedded store');
    }
    if (!key) this.createKey(name, ctx.now);
    return noContent();
  }

  private rotate(ctx: HandlerContext, name: string): VaultResult {
    only(ctx, 'create', 'update');
    const key = this.key(name);
    key.latestVersion++;
    key.versions[String(key.latestVersion)] = { key: randomBytes(32).toString('base64'), createdAt: ctx.now };
    return noContent();
  }

  private config(ctx: HandlerContext, name: string): VaultResult {
    only(ctx, 'create', 'update');
    const key = this.key(name);
    // Everything is validated before anything changes: a refused request changes nothing.
    const deletionAllowed = optionalBool(ctx.body, 'deletion_allowed', key.deletionAllowed);
    const minDecryption = optionalInt(ctx.body, 'min_decryption_version');
    if (minDecryption !== undefined && minDecryption > key.latestVersion)
      throw badRequest('cannot set min decryption version to a version that does not exist');
    key.deletionAllowed = deletionAllowed;
    if (minDecryption !== undefined) key.minDecryptionVersion = Math.max(1, minDecryption);
    return noContent();
  }

  private seal(
    key: TransitKey,
    plaintext: Buffer,
    requestedVersion: number | undefined,
  ): { ciphertext: string; version: number } {
    const version = requestedVersion && requestedVersion > 0 ? requestedVersion : key.latestVersion;
    const entry = key.versions[String(version)];
    if (!entry || version < key.minDecryptionVersion)
      throw badRequest('requested version for encryption is not valid');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(entry.key, 'base64'), nonce);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext: `vault:v${version}:${Buffer.concat([nonce, body]).toString('base64')}`, version };
  }

  private open(key: TransitKey, ciphertext: string): Buffer {
    const match = CIPHERTEXT_PATTERN.exec(ciphertext);
    if (!match?.[1] || !match[2]) throw badRequest('invalid ciphertext: no prefix');
    const version = Number(match[1]);
    if (version < key.minDecryptionVersion)
      throw badRequest('ciphertext or signature version is disallowed by policy (too old)');
    const entry = key.versions[String(version)];
    if (!entry) throw badRequest('invalid ciphertext: key version not found');
    const raw = decodeBase64(match[2], 'ciphertext');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw badRequest('invalid ciphertext: too short');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(entry.key, 'base64'),
      raw.subarray(0, NONCE_BYTES),
    );
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw badRequest('cipher: message authentication failed');
    }
  }

  private refuseBatch(ctx: HandlerContext): void {
    if (ctx.body['batch_input'] !== undefined)
      throw badRequest('batch_input is not supported by the embedded store');
    if (ctx.body['context'] !== undefined || ctx.body['associated_data'] !== undefined) {
      throw badRequest('context and associated_data are not supported by the embedded store');
    }
  }

  private encrypt(ctx: HandlerContext, name: string): VaultResult {
    only(ctx, 'create', 'update');
    this.refuseBatch(ctx);
    const plaintext = decodeBase64(requiredString(ctx.body, 'plaintext'), 'plaintext');
    const key = this.keys[name] ?? this.createKey(name, ctx.now);
    const sealed = this.seal(key, plaintext, optionalInt(ctx.body, 'key_version'));
    return dataResult({ ciphertext: sealed.ciphertext, key_version: sealed.version });
  }

  private decrypt(ctx: HandlerContext, name: string): VaultResult {
    only(ctx, 'create', 'update');
    this.refuseBatch(ctx);
    const plaintext = this.open(this.key(name), requiredString(ctx.body, 'ciphertext'));
    return dataResult({ plaintext: plaintext.toString('base64') });
  }

  private rewrap(ctx: HandlerContext, name: string): VaultResult {
    only(ctx, 'create', 'update');
    this.refuseBatch(ctx);
    const key = this.key(name);
    const sealed = this.seal(
      key,
      this.open(key, requiredString(ctx.body, 'ciphertext')),
      optionalInt(ctx.body, 'key_version'),
    );
    return dataResult({ ciphertext: sealed.ciphertext, key_version: sealed.version });
  }

  private dataKey(ctx: HandlerContext, name: string, withPlaintext: boolean): VaultResult {
    only(ctx, 'create', 'update');
    this.refuseBatch(ctx);
    const bits = optionalInt(ctx.body, 'bits') ?? 256;
    if (![128, 256, 512].includes(bits)) throw badRequest('invalid bits value');
    const plaintext = randomBytes(bits / 8);
    const sealed = this.seal(this.key(name), plaintext, optionalInt(ctx.body, 'key_version'));
    return dataResult({
      ciphertext: sealed.ciphertext,
      key_version: sealed.version,
      ...(withPlaintext ? { plaintext: plaintext.toString('base64') } : {}),
    });
  }
}
