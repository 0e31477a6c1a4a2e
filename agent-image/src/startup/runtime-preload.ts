/**
 * The runtime's heaviest modules, loaded one at a time once the control server listens. Evaluating a
 * module holds the event loop; loaded as one graph, the runtime would hold /healthz's TLS handshake for
 * its whole load (issue 18: cold start). `between` runs after each piece (the front door lets waiting
 * connections reach their first request). compose-agent.ts imports them all anyway: this only orders them.
 */
const PIECES: ReadonlyArray<() => Promise<unknown>> = [
  () => import('express'),
  () => import('express-rate-limit'),
  () => import('prom-client'),
  () => import('tldts'),
  () => import('croner'),
  () => import('../services/runtime/agent-runtime.ts'),
  () => import('../adapters/vault/vault-secret-source.ts'),
  () => import('../http/control-server.ts'),
];

export async function preloadRuntime(between: () => Promise<void>): Promise<void> {
  for (const load of PIECES) {
    await load();
    await between();
  }
}
