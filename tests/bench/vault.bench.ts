/**
 * The embedded Vault's request path with many clients' tokens in its state, in process (no TLS, no disk:
 * the work a request does before its answer is persisted). VAULT_BENCH_TOKENS (default 1,000) client
 * tokens are made as the orchestrator makes them (a periodic token per client, each with a child), then
 * timed: a read (`lookup-self`), the provisioning hand-off (a token created wrapped, then unwrapped) and
 * the kill path's revocation (`revoke-accessor` of a client's token with its child). Prints JSON with
 * microseconds per request (mean and p99).
 */
import { VaultCore, type VaultRequest } from '../../orchestrator/src/adapters/embedded-vault/vault-core.ts';
import { initialVaultState } from '../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { VaultHttpError } from '../../orchestrator/src/adapters/embedded-vault/vault-http-error.ts';

const TOKENS = Number(process.env['VAULT_BENCH_TOKENS'] ?? 1_000);
const ROUNDS = Number(process.env['VAULT_BENCH_ROUNDS'] ?? 2_000);

let now = 1_800_000_000_000;
const state = initialVaultState(now);
const core = new VaultCore(state);

function call(method: string, path: string, token: string, body: Record<string, unknown> = {}, wrapTtl?: string): Record<string, unknown> {
  const request: VaultRequest = { method, path, query: new URLSearchParams(), body, token, wrapTtl };
  const { result } = core.handle(request, now);
  if (result instanceof VaultHttpError) throw new Error(`${method} ${path}: ${result.status} ${result.errors.join('; ')}`);
  return result.status === 200 ? result.body : {};
}

const authOf = (body: Record<string, unknown>) => body['auth'] as { client_token: string; accessor: string };
const root = state.rootToken;
call('POST', 'sys/policies/acl/agent', root, { policy: 'path "auth/token/create" { capabilities = ["update"] }\npath "auth/token/lookup-self" { capabilities = ["read"] }' });

const clients: { token: string; accessor: string }[] = [];
for (let index = 0; index < TOKENS; index++) {
  // Expiries spread over the next hours, as tokens made and renewed at different times have.
  const client = authOf(call('POST', 'auth/token/create', root, { policies: ['agent'], period: `${3600 + index}s` }));
  call('POST', 'auth/token/create', client.client_token, { ttl: '30m' });
  clients.push({ token: client.client_token, accessor: client.accessor });
}

function time(label: string, rounds: number, run: (round: number) => void): [string, { meanMicros: number; p99Micros: number }] {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    now += 1;
    const start = process.hrtime.bigint();
    run(round);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((sum, sample) => sum + sample, 0) / samples.length;
  return [label, { meanMicros: +mean.toFixed(1), p99Micros: +(samples[Math.floor(samples.length * 0.99)] ?? 0).toFixed(1) }];
}

const tokensAtStart = Object.keys(state.tokens).length;
const results = Object.fromEntries([
  time('read', ROUNDS, (round) => call('GET', 'auth/token/lookup-self', clients[round % clients.length]!.token)),
  time('wrapAndUnwrap', ROUNDS, () => {
    const wrapped = call('POST', 'auth/token/create', root, { policies: ['agent'], period: '1h' }, '60s')['wrap_info'] as { token: string };
    const unwrapped = authOf(call('POST', 'sys/wrapping/unwrap', wrapped.token));
    call('POST', 'auth/token/revoke-accessor', root, { accessor: unwrapped.accessor });
  }),
  time('revokeAccessor', Math.min(ROUNDS, clients.length), (round) => call('POST', 'auth/token/revoke-accessor', root, { accessor: clients[round]!.accessor })),
]);

console.log(JSON.stringify({ tokens: tokensAtStart, rounds: ROUNDS, node: process.version, ...results }, null, 2));
