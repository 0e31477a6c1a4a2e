// `fleet service status` on a running service also says whether the fleet's alerts reach anyone: the
// orchestrator's own outside check of Prometheus and Alertmanager, through the ops API's /v1/monitoring.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { runFleetCli } from '../../helpers/fleet-cli.ts';
import { createFleetFixture, type FleetFixture } from '../../helpers/fleet-fixture.ts';

describe('fleet service status', () => {
  let fleet: FleetFixture;
  let socket: Server;

  before(async () => {
    fleet = await createFleetFixture();
    socket = await listenUnixSocket(createSocketApp(fleet.orchestrator, createSilentLogger()), fleet.config.api.socketPath);
  });
  after(async () => {
    await new Promise<void>((resolve) => socket?.close(() => resolve()));
    await fleet?.cleanup([]);
  });

  test('says the service runs and whether the alerting pipeline was checked, without a session', async () => {
    const human = await runFleetCli(fleet.homeDir, 'service', 'status');
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /^orchestrator running\nmonitoring: not checked \(no FLEET_PROMETHEUS_URL/);
    const json = await runFleetCli(fleet.homeDir, '--json', 'service', 'status');
    assert.deepEqual(JSON.parse(json.out), { running: true, monitoring: null });
  });
});
