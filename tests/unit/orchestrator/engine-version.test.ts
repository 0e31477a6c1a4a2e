import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loopbackPublishingWarnings } from '../../../orchestrator/src/adapters/docker/engine-version.ts';

describe('the Docker Engine preflight warning', () => {
  test('engines before 28 are warned about loopback-published ports reaching the LAN segment', () => {
    const [warning, ...rest] = loopbackPublishingWarnings('20.10.24+dfsg1');
    assert.deepEqual(rest, []);
    assert.match(warning ?? '', /^Docker Engine 20\.10\.24\+dfsg1 exposes ports published on 127\.0\.0\.1 .* use 28 or newer/);
    assert.equal(loopbackPublishingWarnings('27.5.1').length, 1);
  });

  test('28 and newer are fine', () => {
    assert.deepEqual(loopbackPublishingWarnings('28.0.0'), []);
    assert.deepEqual(loopbackPublishingWarnings(' 29.1.2 '), []);
  });

  test('an unrecognised version is reported rather than trusted', () => {
    const [warning] = loopbackPublishingWarnings('dev-build');
    assert.match(warning ?? '', /"dev-build" is not recognised/);
  });
});
