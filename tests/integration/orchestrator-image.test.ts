// The orchestrator image carries what FLEET_RUNTIME=kubernetes drives: helm, kubectl and the agent
// chart, at the paths its environment names, usable under the hardening the orchestrator chart applies
// (read-only root, non-root user, HOME on a tmpfs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { renderAgentValues } from '../../orchestrator/src/adapters/kubernetes/render-agent-values.ts';
import { sampleSpec, valuesOptions } from './charts/fixtures.ts';
import { docker } from '../helpers/fleet-fixture.ts';

const IMAGE = 'agent-fleet/orchestrator:latest';

function runInImage(entrypoint: string, args: string[], stdin = ''): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(
    'docker',
    ['run', '--rm', '-i', '--read-only', '--tmpfs', '/tmp', '--user', '10001:10001', '--cap-drop', 'ALL', '--network', 'none', '-e', 'HOME=/tmp', '--entrypoint', entrypoint, IMAGE, ...args],
    { input: stdin, encoding: 'utf8', timeout: 120_000 },
  );
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

describe('the orchestrator image', () => {
  test('names helm, kubectl and the agent chart in its environment', async () => {
    const env = (await docker.getImage(IMAGE).inspect()).Config.Env;
    for (const expected of ['FLEET_HELM_PATH=/app/bin/helm', 'FLEET_KUBECTL_PATH=/app/bin/kubectl', 'FLEET_AGENT_CHART=/app/charts/fleet-agent']) {
      assert.ok(env.includes(expected), `${expected} missing from ${env.join(' ')}`);
    }
  });

  test('renders a client release with its own helm and chart, offline and unprivileged', () => {
    const values = renderAgentValues(sampleSpec(), valuesOptions);
    const rendered = runInImage('/app/bin/helm', ['template', 'fleet-acme', '/app/charts/fleet-agent', '--namespace', 'fleet-acme', '--values', '-'], JSON.stringify(values));
    assert.equal(rendered.code, 0, rendered.stderr);
    const objects = parseAllDocuments(rendered.stdout).map((document) => document.toJS() as { kind?: string; metadata?: { name?: string } } | null);
    const deployment = objects.find((object) => object?.kind === 'Deployment');
    assert.equal(deployment?.metadata?.name, 'fleet-acme');
    assert.ok(objects.some((object) => object?.kind === 'NetworkPolicy'));
  });

  test('carries a kubectl that runs', () => {
    const version = runInImage('/app/bin/kubectl', ['version', '--client', '--output=json']);
    assert.equal(version.code, 0, version.stderr);
    assert.match((JSON.parse(version.stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion, /^v1\.\d+\./);
  });
});
