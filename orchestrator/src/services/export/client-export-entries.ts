import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { providerScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditExportRow } from '@agent-fleet/kernel/audit-export-format';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { ClientRecord } from '../../ports/registry.ts';
import type { SecretMetadata } from '../../ports/secret-store.ts';
import type { AgentData, AgentDataPart } from './agent-data.ts';
import type { ExportEntry } from './export-archive-writer.ts';
import { auditRecordsToCsv, auditRecordsToJsonl, opsLogToJsonl, parseAuditJsonl, splitLines } from './record-converters.ts';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Each line must be a JSON object: the agent's parts reach the archive only in a standard format. */
async function* checkedJsonLines(source: AsyncIterable<Uint8Array>, part: string): AsyncGenerator<string> {
  for await (const { line, number } of splitLines(source)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new FleetError('integrity', `${part} line ${number} from the agent is not JSON`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FleetError('integrity', `${part} line ${number} from the agent is not a JSON object`);
    yield `${line}\n`;
  }
}

/** What the client's mailbox connection is, without a single token: provider, scopes, secret versions. */
export function mailboxConnection(client: ClientRecord, secrets: readonly SecretMetadata[]): unknown {
  const config = parseClientConfigYaml(client.configYaml, `the config of ${client.id}`);
  return {
    provider: client.provider,
    mailbox: config.mailbox ?? null,
    scopes: providerScopesFor(client.provider, config.permissions),
    permissions: config.permissions,
    onboardingStartedAt: client.onboardingStartedAt,
    storedSecrets: secrets.map((secret) => ({ name: secret.name, version: secret.version, updatedAt: secret.updatedAt })),
    note: 'Secret values (OAuth tokens, API keys) are never exported; only their names, versions and dates.',
  };
}

export interface ClientExportInputs {
  client: ClientRecord;
  secrets: readonly SecretMetadata[];
  opsLog: readonly OpsLogEntry[];
  agent: () => Promise<AgentData>;
}

/** Every file of a client's complete export, produced in order (each opened only when its turn comes). */
export function clientExportEntries(inputs: ClientExportInputs): ExportEntry[] {
  const { client } = inputs;
  const configChanges: AuditExportRow[] = [];
  const part = async function* (name: AgentDataPart): AsyncGenerator<Buffer> {
    yield* (await inputs.agent()).part(name);
  };
  const { configYaml: _config, operationId: _operation, operationHeartbeatAt: _heartbeat, ...record } = client;
  return [
    { name: 'client/client.json', description: 'The client record: id, status, provider, admins, dates.', open: () => [json(record)] },
    { name: 'settings/config.yaml', description: 'The client configuration the fleet currently applies (YAML).', open: () => [client.configYaml] },
    { name: 'settings/agent-config.yaml', description: 'The configuration the agent that read this export started with, opened from the copy sealed in its volume for that start (YAML); later changes are in settings/settings-history.jsonl.', open: () => part('config.yaml') },
    { name: 'mailbox/connection.json', description: 'The mailbox connection: provider, address, OAuth scopes, stored secret names, versions and dates (never a token).', open: () => [json(mailboxConnection(client, inputs.secrets))] },
    {
      name: 'audit/audit-log.jsonl',
      description: 'Every audit record of the agent, hash-chained (seq, prev_hash, hash), one JSON object per line.',
      open: () =>
        auditRecordsToJsonl(
          (async function* () {
            for await (const row of parseAuditJsonl(part('audit.jsonl'))) {
              if (row.action_type === 'config_change') configChanges.push(row);
              yield row;
            }
          })(),
        ),
    },
    { name: 'audit/audit-log.csv', description: 'The same audit records as CSV (RFC 4180; cells that would start a formula begin with an apostrophe).', open: () => auditRecordsToCsv(parseAuditJsonl(part('audit.jsonl'))) },
    { name: 'settings/config-changes.jsonl', description: 'Each configuration version the agent applied: when, and the SHA-256 of the configuration (from the audit log).', open: () => auditRecordsToJsonl(configChanges) },
    { name: 'settings/settings-history.jsonl', description: 'Every settings version the agent kept: who changed what, when and why, with the whole configuration of each version (hash-chained).', open: () => checkedJsonLines(part('settings.jsonl'), 'settings.jsonl') },
    { name: 'agent/state.jsonl', description: "The agent's own state as it keeps it: the contacts it knows, its send history, pauses, the mailbox sync position and each message's progress, one event per line.", open: () => checkedJsonLines(part('state.jsonl'), 'state.jsonl') },
    { name: 'approvals/approvals.jsonl', description: 'Every approval the agent keeps: the proposed action with its draft, why it needed a human, the decision (who, when, how) and what ran.', open: () => checkedJsonLines(part('approvals.jsonl'), 'approvals.jsonl') },
    { name: 'mail/outbox.jsonl', description: 'Every message the agent sent or meant to send (recipients, subject, body), its idempotency key and outcome.', open: () => checkedJsonLines(part('outbox.jsonl'), 'outbox.jsonl') },
    { name: 'summaries/daily-summaries.jsonl', description: 'One report per day with activity (reads, drafts, sends, blocks, approvals, model use), then each summary emailed to the admins.', open: () => checkedJsonLines(part('summaries.jsonl'), 'summaries.jsonl') },
    { name: 'ops-log/ops-log.jsonl', description: "The fleet's ops-log entries about the client (provisioning, kills, secret changes, support access), with their hash-chain fields.", open: () => opsLogToJsonl(inputs.opsLog) },
  ];
}

/** The export of an erased client: what the fleet still holds, the tombstone and its deletion certificate. */
export function erasedClientEntries(opsLog: readonly OpsLogEntry[], certificate: unknown): ExportEntry[] {
  return [
    { name: 'erasure/deletion-certificate.json', description: "The deletion certificate: what was deleted, when, at whose request, and the SHA-256 of the client's tombstone.", open: () => [json(certificate)] },
    { name: 'ops-log/ops-log.jsonl', description: "The fleet's ops-log entries about the client, the erasure included, with their hash-chain fields.", open: () => opsLogToJsonl(opsLog) },
  ];
}
