import * as z from 'zod';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import {
  GENESIS_HASH,
  plainSettings,
  settingsChainBreak,
  settingsConfigHash,
  settingsVersionHash,
  type SettingsVersion,
} from '@agent-fleet/kernel/settings-version';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { EncryptedJournal } from '../runtime/encrypted-journal.ts';

const storedSchema = z
  .object({
    version: z.number().int().min(1),
    at: z.string().min(1).max(64),
    author: z.object({ kind: z.enum(['admin', 'operator', 'system']), id: z.string().min(1).max(320) }).strict(),
    reason: z.string().max(2000),
    config: z.record(z.string(), z.unknown()),
    changes: z.array(z.looseObject({ path: z.string().max(500) })),
    guardRails: z.array(z.string().max(100)).max(100),
    rollbackOf: z.number().int().min(1).nullable(),
    source: z.enum(['api', 'file']),
    configHash: z.string().regex(/^[0-9a-f]{64}$/),
    prevHash: z.string().regex(/^[0-9a-f]{64}$/),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** A version as it is made, before it takes its place in the chain. */
export type NewSettingsVersion = Omit<SettingsVersion, 'version' | 'configHash' | 'prevHash' | 'hash'>;

/**
 * The client's settings history: every version ever made, encrypted in the volume (`state/settings.log`,
 * its own envelope purpose), append-only and never compacted, each version chained to the one before by
 * hash. Opening verifies the chain: an altered, missing or reordered version is an integrity error.
 */
export class SettingsHistory {
  private readonly journal: EncryptedJournal<SettingsVersion>;
  private readonly list: SettingsVersion[];

  private constructor(journal: EncryptedJournal<SettingsVersion>, versions: SettingsVersion[]) {
    this.journal = journal;
    this.list = versions;
  }

  static async open(options: { directory: string; keys: KeyRing; now?: () => Date }): Promise<SettingsHistory> {
    const { journal, events } = await EncryptedJournal.open<SettingsVersion>({
      directory: options.directory,
      file: 'settings.log',
      purpose: 'settings',
      keys: options.keys,
      parse: parseStoredVersion,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const broken = settingsChainBreak(events);
    if (broken !== null) throw new FleetError('integrity', `settings history: ${broken}`);
    return new SettingsHistory(journal, events);
  }

  /** The newest version; null before the first. */
  get head(): SettingsVersion | null {
    return this.list.at(-1) ?? null;
  }

  /** Every version, oldest first. */
  versions(): readonly SettingsVersion[] {
    return this.list;
  }

  get(version: number): SettingsVersion | undefined {
    return this.list[version - 1];
  }

  /** Appends the next version (numbered, hashed and chained here); resolves once it is durable. */
  async append(input: NewSettingsVersion): Promise<SettingsVersion> {
    const previous = this.head;
    const config = plainSettings(input.config);
    const unhashed = {
      ...input,
      config,
      version: (previous?.version ?? 0) + 1,
      configHash: settingsConfigHash(config),
      prevHash: previous?.hash ?? GENESIS_HASH,
    };
    const version: SettingsVersion = { ...unhashed, hash: settingsVersionHash(unhashed) };
    await this.journal.append(version);
    this.list.push(version);
    return version;
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

/** A stored version is untrusted until it parses and its document is a valid config. */
function parseStoredVersion(value: unknown): SettingsVersion {
  const parsed = storedSchema.safeParse(value);
  if (!parsed.success) throw new FleetError('integrity', 'settings.log holds a version of an unknown shape');
  const config = parseClientConfig(parsed.data.config);
  if (!config.ok) throw new FleetError('integrity', `settings.log: version ${parsed.data.version} is not a valid config`);
  return value as SettingsVersion;
}

/** The validated (frozen) document of a stored version. */
export function configOf(version: SettingsVersion): ClientConfig {
  const parsed = parseClientConfig(version.config);
  if (!parsed.ok) throw new FleetError('integrity', `settings version ${version.version} is not a valid config`);
  return parsed.config;
}
