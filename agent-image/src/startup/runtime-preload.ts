/**
 * The runtime's heaviest modules, loaded one at a time once the control server listens. Evaluating a
 * module holds the event loop; loaded as one graph, the runtime would hold /healthz's TLS handshake for
 * its whole load (issue 18: cold start). `between` runs after each piece (the front door lets waiting
 * connections reach their first request). The shortest pieces come first: a probe that was already
 * retrying when the server began to listen then waits for a short piece, not for express (~40 ms).
 * compose-agent.ts imports them all anyway: this only orders them.
 */
const PIECES: ReadonlyArray<() => Promise<unknown>> = [
  () => import('croner'),
  () => import('express-rate-limit'),
  () => import('prom-client'),
  () => import('tldts'),
  () => import('../services/runtime/agent-runtime.ts'),
  () => import('@agent-fleet/kernel/logger'),
  () => import('express'),
  () => import('../adapters/vault/vault-secret-source.ts'),
  () => import('../http/control-server.ts'),
];

export async function preloadRuntime(between: () => Promise<void>): Promise<void> {
  for (const load of PIECES) {
    await load();
    await between();
  }
}
