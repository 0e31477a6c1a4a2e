// Orchestrator settings that passed loadConfig and then went wrong where no setting was named: a fleet home
// whose socket path is longer than a unix socket may have (the service failed to listen with a bare EINVAL,
// the CLI could not reach it), PORTAL_TLS_NAMES entries that are no name (`portal.example.com:7443`, `..`,
// `999.1.1.1`: the certificate was issued for them and every portal link in the agents' mail was broken),
// and a PORTAL_PUBLIC_URL path that was dropped without a word (links went to the proxy's root). And the
// refusal listed the names without saying what they are or what to do, and a bad FLEET_EGRESS_EXTRA_HOSTS
// entry was not named.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { MAX_SOCKET_PATH_BYTES } from '../../../orchestrator/src/config-socket-path.ts';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

/** An absolute directory whose `orchestrator.sock` is exactly `bytes` long. */
function homeWithSocketOf(bytes: number): string {
  const fixed = '/tmp/'.length + '/orchestrator.sock'.length;
  return path.join('/tmp', 'h'.repeat(bytes - fixed));
}

describe('orchestrator settings are refused by name when they could only fail later', () => {
  test('a fleet home whose API socket path is too long for a unix socket is refused, naming the limit', () => {
    assert.equal(loadConfig({ AGENT_FLEET_HOME: homeWithSocketOf(MAX_SOCKET_PATH_BYTES) }).api.socketPath.length, MAX_SOCKET_PATH_BYTES);
    const message = refusal({ AGENT_FLEET_HOME: homeWithSocketOf(MAX_SOCKET_PATH_BYTES + 1) });
    assert.match(message, new RegExp(`^ {2}AGENT_FLEET_HOME: is too long: the unix socket /tmp/h+/orchestrator\\.sock would be ${MAX_SOCKET_PATH_BYTES + 1} bytes, over the ${MAX_SOCKET_PATH_BYTES} a socket path may have; choose a shorter directory$`, 'm'));
    // Bytes, not characters: a socket path is bytes.
    assert.match(refusal({ AGENT_FLEET_HOME: `/tmp/${'é'.repeat(50)}` }), /AGENT_FLEET_HOME: is too long/);
    assert.match(refusal({ DOCKER_SOCKET: `/${'d'.repeat(MAX_SOCKET_PATH_BYTES)}` }), /DOCKER_SOCKET: is too long: the unix socket/);
  });

  test('PORTAL_TLS_NAMES takes host names and IP addresses only, and names the entries that are not', () => {
    assert.deepEqual(loadConfig({ PORTAL_TLS_NAMES: 'portal.example.com, localhost,192.0.2.10, ::1' }).portal.tlsNames, ['portal.example.com', 'localhost', '192.0.2.10', '::1']);
    assert.equal(loadConfig({ PORTAL_TLS_NAMES: 'portal.example.com', PORTAL_PORT: '7443' }).agent.portalUrl, 'https://portal.example.com:7443');
    for (const names of ['portal.example.com:7443', '..', '-', 'a..b', '999.1.1.1', '1.2.3.4.5', ':::', '-portal.example.com', 'localhost,portal_1.example.com']) {
      const bad = names.split(',').at(-1) ?? '';
      assert.match(
        refusal({ PORTAL_TLS_NAMES: names }),
        new RegExp(`^ {2}PORTAL_TLS_NAMES: must be host names \\(portal\\.example\\.com\\) or IP addresses .*; ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not$`, 'm'),
        names,
      );
    }
    assert.match(refusal({ PORTAL_TLS_NAMES: ' , ' }), /PORTAL_TLS_NAMES: must name at least one host name or IP address/);
  });

  test('PORTAL_PUBLIC_URL is an origin: a path, query or fragment is refused rather than dropped', () => {
    assert.equal(loadConfig({ PORTAL_PUBLIC_URL: 'https://portal.example.com/' }).portal.publicUrl, 'https://portal.example.com');
    assert.equal(loadConfig({ PORTAL_PUBLIC_URL: 'https://portal.example.com:8443' }).portal.publicUrl, 'https://portal.example.com:8443');
    for (const url of ['https://portal.example.com/portal', 'https://example.com/clients/', 'https://portal.example.com/?tenant=1', 'https://portal.example.com#top', 'https://portal.example.com/?']) {
      assert.match(refusal({ PORTAL_PUBLIC_URL: url }), /^ {2}PORTAL_PUBLIC_URL: must be an origin such as https:\/\/portal\.example\.com \(no path, query or #\)/m, url);
    }
  });

  test('the refusal says the names are environment variables and what to do about them', () => {
    const message = refusal({ ORCHESTRATOR_PORT: 'x', LOG_LEVEL: 'INFO' });
    assert.match(message, /^ {2}ORCHESTRATOR_PORT: /m);
    assert.match(message, /^ {2}LOG_LEVEL: /m);
    assert.match(message, /\nThese are environment variables \(the systemd service also reads \/etc\/agent-fleet\/env\): correct or unset each one named above, then run the command again\.$/);
  });

  test('FLEET_EGRESS_EXTRA_HOSTS names the entries that are not hosts, not just the variable', () => {
    assert.deepEqual(loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: 'api.example.com:8443, [::1]:80' }).egress.extraRules.length, 2);
    assert.match(
      refusal({ FLEET_EGRESS_EXTRA_HOSTS: 'api.example.com, *.com, https://crm.example.com, a b, -x.example.com, ok.example.com' }),
      /^ {2}FLEET_EGRESS_EXTRA_HOSTS: must be host\[:port\], \*\.domain\[:port\] or IP literals, comma-separated; "\*\.com", "https:\/\/crm\.example\.com", "a b" and 1 more are not$/m,
    );
  });
});
