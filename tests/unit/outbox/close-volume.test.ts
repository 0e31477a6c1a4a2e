import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeVolume } from '../../../agent-image/src/services/runtime/close-volume.ts';
import type { OpenedAgent } from '../../../agent-image/src/services/runtime/open-volume.ts';

describe('closing the volume', () => {
  it('a store that fails to close still lets the audit log close and the secret token be revoked', async () => {
    const closed: string[] = [];
    const part = (name: string, fails = false) => ({
      close: async () => {
        if (fails) throw new Error(`${name}: I/O error`);
        closed.push(name);
      },
    });
    const agent = {
      outbox: part('outbox', true),
      state: part('state'),
      approvals: part('approvals'),
      settings: part('settings'),
      audit: part('audit'),
      secrets: {
        current: {
          stop: async () => {
            closed.push('token revoked');
          },
        },
      },
    } as unknown as OpenedAgent;
    await assert.rejects(closeVolume(agent), /outbox: I\/O error/);
    assert.deepEqual(closed, ['state', 'approvals', 'settings', 'audit', 'token revoked']);
  });
});
