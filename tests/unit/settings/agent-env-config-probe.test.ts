// The agent's own environment, probed: numbers were coerced ("0x1F90" ran the control API on 8080, "1e1"
// ten messages at once, an empty value 0), Vault and provider addresses took any scheme (file:, ftp:) and
// user:pass@, and a relative data directory or config path was resolved against wherever the process started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAgentEnv } from '../../../agent-image/src/config.ts';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadAgentEnv(env);
  } catch (error) {
    assert.match((error as Error).message, /^invalid agent environment:/);
    return (error as Error).message;
  }
  assert.fail(`accepted: ${JSON.stringify(env)}`);
}

void test('agent numbers are whole decimal numbers: hexadecimal, exponent, fractional and empty values are refused by name', () => {
  for (const [name, value] of [
    ['AGENT_CONTROL_PORT', '0x1F90'],
    ['AGENT_METRICS_PORT', '9.464e3'],
    ['AGENT_CONCURRENCY', '1e1'],
    ['AGENT_SYNC_INTERVAL_SECONDS', '60.5'],
    ['AGENT_SWEEP_INTERVAL_SECONDS', ''],
    ['AGENT_CONCURRENCY', 'Infinity'],
  ] as const) {
    assert.match(refusal({ [name]: value }), new RegExp(`${name}: must be a whole number in decimal`), `${name}=${JSON.stringify(value)}`);
  }
  const env = loadAgentEnv({ AGENT_CONTROL_PORT: ' 8081 ', AGENT_SYNC_INTERVAL_SECONDS: '5' });
  assert.equal(env.AGENT_CONTROL_PORT, 8081);
  assert.equal(env.AGENT_SYNC_INTERVAL_SECONDS, 5);
  assert.match(refusal({ AGENT_CONCURRENCY: '33' }), /AGENT_CONCURRENCY: Too big/);
});

void test('Vault and service addresses are http(s) URLs without user:pass@', () => {
  for (const name of ['VAULT_ADDR', 'AGENT_GMAIL_ROOT_URL', 'AGENT_GRAPH_TOKEN_URL', 'AGENT_ANTHROPIC_BASE_URL', 'AGENT_BULLHORN_LOGIN_URL']) {
    assert.match(refusal({ [name]: 'file:///etc/passwd' }), new RegExp(`${name}: must be an http\\(s\\):// URL`), name);
    assert.match(refusal({ [name]: 'https://user:s3cret@api.example.com/' }), new RegExp(`${name}: must not contain a user name or password`), name);
  }
  assert.match(refusal({ AGENT_PORTAL_URL: 'https://admin:pw@portal.example.com' }), /AGENT_PORTAL_URL: must not contain a user name or password/);
  const env = loadAgentEnv({ VAULT_ADDR: 'https://10.213.0.1:7401', AGENT_ANTHROPIC_BASE_URL: 'http://localhost:4010' });
  assert.equal(env.AGENT_ANTHROPIC_BASE_URL, 'http://localhost:4010');
});

void test('the data directory and the config path are absolute', () => {
  const message = refusal({ AGENT_DATA_DIR: 'data', AGENT_CONFIG_PATH: './config.yaml' });
  assert.match(message, /AGENT_DATA_DIR: must be an absolute path/);
  assert.match(message, /AGENT_CONFIG_PATH: must be an absolute path/);
  assert.equal(loadAgentEnv({}).AGENT_DATA_DIR, '/data');
});
