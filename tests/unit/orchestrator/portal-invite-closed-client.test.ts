// `fleet portal invite` for a client being closed or closed: its agent never runs again, so no enrolment
// link is issued for it, neither mailed nor shown to the operator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
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

for (const status of ['deprovisioning', 'deprovisioned'] as const) {
  for (const print of [false, true]) {
    void test(`an invitation for a ${status} client is refused${print ? ' with --print' : ''}, and no link is issued`, async () => {
      const { service, opsLog, issued, mailed } = bed(status);
      await assert.rejects(
        service.invite({ clientId: 'acme', email: 'boss@acme.example', print, actor: 'op-1' }),
        (error: unknown) => isFleetError(error) && error.code === 'conflict' && error.message.includes(status),
      );
      assert.deepEqual(issued, [], 'no enrolment link exists');
      assert.deepEqual(mailed, []);
      assert.deepEqual(opsLog, []);
    });
  }
}

for (const status of ['active', 'killed'] as const) {
  void test(`an invitation for the admin of a client that is ${status} is still issued`, async () => {
    const { service, issued } = bed(status);
    await service.invite({ clientId: 'acme', email: 'boss@acme.example', print: true, actor: 'op-1' });
    assert.deepEqual(issued, ['boss@acme.example']);
  });
}
