import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { ControlTokenAuth } from '../../../agent-image/src/services/runtime/control-auth.ts';

const mintToken = () => randomBytes(32).toString('base64url');
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** A secret source whose `control` secret read is scripted: a hash, nothing, a failure, or a wait. */
function sourceReading(read: () => Promise<Readonly<Record<string, string>> | null>): SecretSource {
  return { readSecretData: (name: string) => (name === 'control' ? read() : Promise.resolve(null)) } as unknown as SecretSource;
}

const refused = (error: unknown) => error instanceof FleetError && error.code === 'unauthorized';

describe('the control token check', () => {
  test('after a rotation whose hash could not be read, the old control token is refused', async () => {
    const oldToken = mintToken();
    let source = sourceReading(async () => ({ token_sha256: sha256(oldToken) }));
    const auth = new ControlTokenAuth({ source: () => source, revoked: () => false, logger: createSilentLogger() });
    await auth.refresh();
    await auth.authenticate(oldToken);
    // The rotation hands over a new Vault token, but the read of the new hash fails (Vault briefly away).
    source = sourceReading(() => Promise.reject(new FleetError('unavailable', 'secret store unreachable')));
    await assert.rejects(auth.refresh());
    await assert.rejects(auth.authenticate(oldToken), refused, 'the token the rotation replaced no longer opens the API');
  });

  test('a slow read from before a rotation does not put the old hash back over the new one', async () => {
    const oldToken = mintToken();
    const newToken = mintToken();
    let releaseOld: () => void = () => undefined;
    const oldRead = new Promise<void>((resolve) => {
      releaseOld = resolve;
    });
    let source = sourceReading(async () => {
      await oldRead;
      return { token_sha256: sha256(oldToken) };
    });
    const auth = new ControlTokenAuth({ source: () => source, revoked: () => false, logger: createSilentLogger() });
    const slow = auth.refresh();
    source = sourceReading(async () => ({ token_sha256: sha256(newToken) }));
    await auth.refresh();
    releaseOld();
    await slow;
    await auth.authenticate(newToken);
    await assert.rejects(auth.authenticate(oldToken), refused);
  });
  test('a new hash published without a new introduction is taken up: the new token works and the old one stops', async () => {
    const oldToken = mintToken();
    const newToken = mintToken();
    let published = sha256(oldToken);
    let reads = 0;
    let clock = 1_000_000;
    const source = sourceReading(async () => {
      reads++;
      return { token_sha256: published };
    });
    const auth = new ControlTokenAuth({ source: () => source, revoked: () => false, logger: createSilentLogger(), now: () => clock });
    await auth.refresh();
    // The orchestrator's rotation published a new control token, then failed to introduce the agent.
    published = sha256(newToken);
    clock += 6000;
    await auth.authenticate(newToken);
    await assert.rejects(auth.authenticate(oldToken), refused);
    assert.equal(reads, 2);
  });

  test('wrong tokens re-read the hash at most every 5 s, and a failed or empty read keeps the right token working', async () => {
    const token = mintToken();
    let answer: () => Promise<Readonly<Record<string, string>> | null> = async () => ({ token_sha256: sha256(token) });
    let reads = 0;
    let clock = 1_000_000;
    const source = sourceReading(() => {
      reads++;
      return answer();
    });
    const auth = new ControlTokenAuth({ source: () => source, revoked: () => false, logger: createSilentLogger(), now: () => clock });
    await auth.refresh();
    for (let attempt = 0; attempt < 20; attempt++) await assert.rejects(auth.authenticate(mintToken()), refused);
    await assert.rejects(auth.authenticate(null), refused);
    assert.equal(reads, 1, 'a burst of wrong tokens within 5 s reads nothing');
    answer = () => Promise.reject(new FleetError('forbidden', 'permission denied'));
    clock += 6000;
    await assert.rejects(auth.authenticate(mintToken()), refused);
    await auth.authenticate(token);
    answer = async () => null;
    clock += 6000;
    await assert.rejects(auth.authenticate(mintToken()), refused);
    await auth.authenticate(token);
    assert.equal(reads, 3);
  });
});
