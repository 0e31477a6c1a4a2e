import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateIsolation, type IsolationFacts } from '../../../orchestrator/src/domain/isolation-policy.ts';

const HARDENED: IsolationFacts = {
  workload: 'fleet-acme',
  running: true,
  managed: true,
  user: '10001:10001',
  capDrop: ['ALL'],
  capAdd: [],
  privileged: false,
  noNewPrivileges: true,
  readOnlyRootfs: true,
  memoryBytes: 128 * 1048576,
  memorySwapBytes: 128 * 1048576,
  nanoCpus: 500_000_000,
  pidsLimit: 128,
  mounts: [{ type: 'volume', source: 'fleet-acme-data', target: '/data', readOnly: false }],
  publishedHostIps: ['127.0.0.1', '127.0.0.1'],
  networks: ['fleet-acme'],
  network: { name: 'fleet-acme', internal: true, iccDisabled: true, strangers: [], hostFenced: true },
  mailEndpoint: null,
};
const EXPECTED = { volume: 'fleet-acme-data', internalNetwork: true };
const failures = (facts: Partial<IsolationFacts>) =>
  evaluateIsolation({ ...HARDENED, ...facts }, EXPECTED)
    .filter((finding) => !finding.ok)
    .map((finding) => finding.text);

describe('isolation judged from what the runtime reports', () => {
  test('the hardened agent holds on every count', () => {
    const findings = evaluateIsolation(HARDENED, EXPECTED);
    assert.ok(
      findings.every((finding) => finding.ok),
      JSON.stringify(findings),
    );
    assert.ok(findings.some((finding) => finding.text === 'memory limited to 128 MiB without swap'));
  });

  test('each missing hardening setting is named', () => {
    const cases: [Partial<IsolationFacts>, string][] = [
      [{ user: '' }, 'runs as root (user "")'],
      [{ user: '0:0' }, 'runs as root (user "0:0")'],
      [{ capDrop: [] }, 'capabilities not dropped (CapDrop lacks ALL)'],
      [{ capAdd: ['NET_ADMIN'] }, 'capabilities added: NET_ADMIN'],
      [{ privileged: true }, 'privileged'],
      [{ noNewPrivileges: false }, 'no-new-privileges not set'],
      [{ readOnlyRootfs: false }, 'root filesystem writable'],
      [{ memorySwapBytes: -1 }, 'swap allowed beyond the memory limit'],
      [{ memoryBytes: 0, memorySwapBytes: 0 }, 'no memory limit'],
      [{ nanoCpus: 0 }, 'no CPU limit'],
      [{ pidsLimit: 0 }, 'no process limit'],
      [{ publishedHostIps: ['0.0.0.0'] }, 'ports published on 0.0.0.0'],
      [{ networks: ['fleet-acme', 'bridge'] }, 'attached to fleet-acme, bridge'],
      [{ managed: false }, "fleet-acme does not carry this fleet's labels for the client"],
    ];
    for (const [facts, text] of cases) assert.deepEqual(failures(facts), [text], JSON.stringify(facts));
  });

  test('a foreign mount or the Docker socket, and the network’s settings, are named', () => {
    assert.deepEqual(
      failures({
        mounts: [
          ...HARDENED.mounts,
          { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', readOnly: false },
        ],
      }),
      ['other mounts: /var/run/docker.sock:/var/run/docker.sock'],
    );
    assert.deepEqual(
      failures({
        network: { name: 'fleet-acme', internal: false, iccDisabled: false, strangers: ['intruder'], hostFenced: false },
      }),
      [
        'network not internal: routes anywhere',
        'inter-container traffic allowed on its network',
        'other containers on its network: intruder',
        'the host firewall has no rules for its bridge: services on the host are reachable from it (restart the orchestrator)',
      ],
    );
    assert.deepEqual(failures({ network: null }), ['no network of its own']);
    const unfenced = evaluateIsolation({ ...HARDENED, network: { ...HARDENED.network!, hostFenced: null } }, EXPECTED);
    assert.ok(unfenced.every((finding) => finding.ok && !finding.text.includes('host firewall')), 'a fleet without the host firewall (FLEET_HOST_FIREWALL=off) is not judged on it');
    assert.ok(evaluateIsolation(HARDENED, EXPECTED).some((finding) => finding.ok && finding.text.includes("the host firewall's rules for its bridge")));
    assert.deepEqual(
      evaluateIsolation(
        { ...HARDENED, network: { ...HARDENED.network!, internal: false } },
        { ...EXPECTED, internalNetwork: false },
      ).filter((f) => !f.ok),
      [],
    );
  });
});
