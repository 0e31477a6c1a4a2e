// A provisioning that finds a leftover agent (a crashed or rolled-back operation's, adopted or replaced as
// drifted) revokes the Vault tokens minted before it, ahead of the new agent's introduction: none outlives
// the container it was handed to until the next rotation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, provisionServiceOver, recordingStandIns } from '../../helpers/client-operation-bed.ts';

for (const backend of inProcessBackends) {
  describe(`a provisioning replaces the tokens a leftover agent held (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'lifecycle-claims-tokens');

    test('the tokens minted before are revoked before the container is made and the new introduction minted', async () => {
      const clientId = parseClientId('lctokens');
      const calls: string[] = [];
      const service = provisionServiceOver(recordingStandIns(calls), {
        registry: bed.opened.registry,
        homeDir: bed.homeDir,
        prepareIntroduction: async () => {
          calls.push('prepareIntroduction');
          return async () => undefined;
        },
      });
      assert.equal((await service.provision({ clientId, actor: 'ops' })).outcome, 'provisioned');
      const revoked = calls.indexOf('revokeAgentTokens');
      assert.ok(revoked !== -1, `the earlier tokens are revoked (${calls.join(', ')})`);
      assert.ok(revoked < calls.indexOf('createAgent') && revoked < calls.indexOf('prepareIntroduction'), `before the container and the new introduction (${calls.join(', ')})`);
    });
  });
}
