import { canonicalJson, sha256Hex, GENESIS_HASH } from './canonical-json.ts';
import type { ClientConfig } from './client-config.ts';
import type { SettingsChange } from './settings-diff.ts';

/**
 * One version of a client's settings document (the client config): who changed it, when, why, what
 * changed field by field, and the hash chain that makes the history append-only. The agent keeps the
 * versions encrypted in the client's volume; the orchestrator checkpoints the head. Pure.
 */

/** A settings document larger than this (canonical JSON, or the YAML given) is refused whole. */
export const MAX_SETTINGS_BYTES = 1024 * 1024;

/** Who made a version: a signed-in client admin, an operator (CLI/API), or the system (provisioning). */
export interface SettingsAuthor {
  kind: 'admin' | 'operator' | 'system';
  /** The admin's address, the operator identity, or what the system did (`provisioning`, `config-file`). */
  id: string;
}

export interface SettingsVersion {
  /** 1 for the first version, then +1 per change; never reused. */
  version: number;
  /** When it was made (ISO 8601, UTC). */
  at: string;
  author: SettingsAuthor;
  reason: string;
  /** The whole settings document of this version (validated, defaults filled). */
  config: ClientConfig;
  /** Field-level difference from the previous version (everything for version 1). */
  changes: SettingsChange[];
  /** Guard rails this version crossed (each confirmed by the author, or recorded as made by ops' file). */
  guardRails: string[];
  /** The version it restored, for a rollback. */
  rollbackOf: number | null;
  /** `api`: made through the control API; `file`: taken from the config file the orchestrator placed. */
  source: 'api' | 'file';
  /** sha256 of the canonical document; equal documents have equal hashes. */
  configHash: string;
  /** `hash` of the previous version; GENESIS_HASH for version 1. */
  prevHash: string;
  /** sha256 over the canonical JSON of every other field. */
  hash: string;
}

/** The head as the orchestrator checkpoints it. */
export interface SettingsHead {
  version: number;
  hash: string;
}

export { GENESIS_HASH };

/** The document as plain JSON (no frozen objects, no undefined members). */
export function plainSettings(config: ClientConfig): ClientConfig {
  return JSON.parse(JSON.stringify(config)) as ClientConfig;
}

export function settingsConfigHash(config: ClientConfig): string {
  return sha256Hex(canonicalJson(plainSettings(config)));
}

/** Bytes of the document's canonical JSON (what the 1 MiB limit counts). */
export function settingsDocumentBytes(config: unknown): number {
  return Buffer.byteLength(canonicalJson(JSON.parse(JSON.stringify(config ?? null)) as unknown));
}

export function settingsVersionHash(version: Omit<SettingsVersion, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = version;
  return sha256Hex(canonicalJson(JSON.parse(JSON.stringify(rest)) as unknown));
}

/** Checks that `versions` (oldest first) form one unbroken chain; the first problem, or null. */
export function settingsChainBreak(versions: readonly SettingsVersion[]): string | null {
  let previous: SettingsVersion | null = null;
  for (const version of versions) {
    const expectedNumber = previous === null ? 1 : previous.version + 1;
    if (version.version !== expectedNumber) return `version ${expectedNumber} is missing or out of order`;
    if (version.prevHash !== (previous?.hash ?? GENESIS_HASH)) return `version ${version.version} does not follow version ${previous?.version ?? 0}`;
    if (settingsVersionHash(version) !== version.hash) return `version ${version.version} was altered`;
    if (settingsConfigHash(version.config) !== version.configHash) return `the document of version ${version.version} was altered`;
    previous = version;
  }
  return null;
}

/** "dana@acme.com (client admin)", "alice@ops-host (operator)", "provisioning (system)". */
export function describeAuthor(author: SettingsAuthor): string {
  const role = author.kind === 'admin' ? 'client admin' : author.kind;
  return `${author.id} (${role})`;
}

/** The refusal of an edit that started from an older version (no lost update). */
export function staleEditMessage(head: Pick<SettingsVersion, 'version' | 'author' | 'at'>): string {
  return `changed by ${describeAuthor(head.author)} at ${head.at} (now version ${head.version}), reload`;
}
