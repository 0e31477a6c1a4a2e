import type { Acl, Operation } from './acl.ts';
import type { TokenRecord } from './vault-state.ts';
import { badRequest } from './vault-http-error.ts';
import type { VaultResult } from './vault-response.ts';

/** The authenticated token behind a request. */
export interface Caller {
  token: string;
  record: TokenRecord;
  acl: Acl;
}

export interface HandlerContext {
  operation: Operation;
  body: Record<string, unknown>;
  query: URLSearchParams;
  caller: Caller | null;
  now: number;
}

/** One resolved endpoint: how to authorize it, and what it does. */
export interface Route {
  /** Served without a token (sys/health, sys/wrapping/lookup). */
  unauthenticated?: boolean;
  /** Vault's root-protected paths need `sudo` on top of the operation's capability. */
  sudo?: boolean;
  /** For POST/PUT: whether the target exists, making the operation `update` rather than `create`. */
  exists?: () => boolean;
  handle(ctx: HandlerContext): VaultResult;
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${key} must be a string`);
  return value;
}

export function requiredString(body: Record<string, unknown>, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined || value === '') throw badRequest(`missing ${key}`);
  return value;
}

export function optionalBool(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(`${key} must be a boolean`);
}

export function optionalInt(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0)
    throw badRequest(`${key} must be a non-negative integer`);
  return number;
}

/** A list field given as a JSON array or a comma-separated string, as Vault accepts both. */
export function stringList(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || items.some((item) => typeof item !== 'string'))
    throw badRequest(`${key} must be a list of strings`);
  return [
    ...new Set((items as string[]).map((item) => item.trim().toLowerCase()).filter((item) => item !== '')),
  ].sort();
}

/** Vault-style names for policies, roles, keys and mounts. */
export function checkName(kind: string, name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(name))
    throw badRequest(`invalid ${kind} name ${JSON.stringify(name.slice(0, 64))}`);
  return name;
}
