import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { ClientRecord } from '../../orchestrator/src/ports/registry.ts';

/** acme's registry row as services read it, created 2026-12-01, with the fields a test sets. */
export function acmeRecord(fields: Partial<ClientRecord> = {}): ClientRecord {
  const at = '2026-12-01T00:00:00.000Z';
  return {
    id: parseClientId('acme'),
    status: 'active',
    provider: 'gmail',
    admins: ['admin@acme.example'],
    configYaml: 'client: acme\n',
    subnet: '10.9.0.0/28',
    onboardingStartedAt: at,
    operationId: null,
    operationHeartbeatAt: null,
    statusReason: null,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}
