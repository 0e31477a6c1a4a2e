// `fleet portal invite` for a client in any status the registry holds, closed included: through its retention
// period a closed client's admins may still enrol, to export its data or approve the support that does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { NewOpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { PortalInviteService } from '../../../orchestrator/src/services/portal-invites.ts';

function bed(status: ClientStatus) {
  const opsLog: NewOpsLogEntry[] = [];
  const issued: string[] = [];
  const mailed: string[] = [];
  const service = new PortalInviteService({
    registry: {
      getClient: async () => ({ status, configYaml: 'client: acme\nadmins: [boss@acme.example]\n' }) as never,
      appendOpsLog: async (entry: NewOpsLogEntry) => {
        opsLog.push(entry);
        return entry as never;
      },
    },
    views: {
      notice: async (_clientId: string, request: { url: string }) => {
        mailed.push(request.url);
        return 'sent';
      },
    } as never,
    issue: async (_clientId: string, email: string) => {
      issued.push(email);
      return { url: 'https://portal.example/enrol/x', expiresAt: new Date('2026-01-08T00:00:00Z') };
    },
  });
  return { service, opsLog, issued, mailed };
}

for (const status of ['active', 'killed', 'deprovisioning', 'deprovisioned'] as const) {
  void test(`an invitation for the admin of a client that is ${status} is still issued`, async () => {
    const { service, issued } = bed(status);
    await service.invite({ clientId: 'acme', email: 'boss@acme.example', print: true, actor: 'op-1' });
    assert.deepEqual(issued, ['boss@acme.example']);
  });
}
