import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOME_HELD_EXIT_CODE } from '../../../orchestrator/src/adapters/process/home-lock.ts';
import { SERVICE_THREADPOOL_SIZE } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { renderSystemdUnit } from '../../../scripts/systemd-unit.ts';

const OPTIONS = { repoDir: '/opt/agent-fleet', homeDir: '/var/lib/agent-fleet', environmentFile: '/etc/agent-fleet/env' };

function directives(unit: string, key: string): string[] {
  return unit
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('the systemd unit of the orchestrator service', () => {
  test('runs the service from the checkout, on the given home, after Docker, restarting after a failure', () => {
    const unit = renderSystemdUnit(OPTIONS);
    assert.deepEqual(directives(unit, 'ExecStart'), ['/opt/agent-fleet/node_modules/.bin/node /opt/agent-fleet/orchestrator/src/main.ts']);
    assert.deepEqual(directives(unit, 'Environment'), ['AGENT_FLEET_HOME=/var/lib/agent-fleet', `UV_THREADPOOL_SIZE=${SERVICE_THREADPOOL_SIZE}`]);
    assert.deepEqual(directives(unit, 'EnvironmentFile'), ['-/etc/agent-fleet/env']);
    assert.deepEqual(directives(unit, 'Requires'), ['docker.service']);
    assert.match(directives(unit, 'After')[0] ?? '', /\bdocker\.service\b/);
    assert.deepEqual(directives(unit, 'Restart'), ['on-failure']);
    assert.deepEqual(directives(unit, 'WantedBy'), ['multi-user.target']);
  });

  test('a home another service holds is not a failure to restart from', () => {
    assert.deepEqual(directives(renderSystemdUnit(OPTIONS), 'RestartPreventExitStatus'), [String(HOME_HELD_EXIT_CODE)]);
  });

  test('a path that would change the unit’s meaning is refused, naming it', () => {
    for (const homeDir of ['relative/home', '/home/ops/fleet home', '/srv/a\nExecStartPre=/bin/rm -rf /', '/srv/../etc', '/srv/$HOME', '/srv/%h']) {
      assert.throws(() => renderSystemdUnit({ ...OPTIONS, homeDir }), /the fleet home must be an absolute path/, homeDir);
    }
    assert.throws(() => renderSystemdUnit({ ...OPTIONS, repoDir: '/opt/x;y' }), /the repository directory/);
  });
});
