import { Gauge, type Registry as MetricsRegistry } from 'prom-client';

export interface OnboardingSample {
  clientId: string;
  openRequired: number;
  onboardingStartedAt: string;
}

/**
 * Onboarding per active client, read at scrape time (bounded by the fleet's size): the required checklist
 * items the last `fleet doctor` left open (every item while a client was never checked), and when its
 * onboarding started, so a rule can page once a client has run 7 days with items open.
 */
export function createOnboardingMetrics(
  registry: MetricsRegistry,
  samples: () => Promise<OnboardingSample[]>,
): void {
  let pending: Promise<OnboardingSample[]> | null = null;
  // Both gauges are collected in one scrape: one read of the registry serves them.
  const read = (): Promise<OnboardingSample[]> => {
    pending ??= samples().finally(() => setImmediate(() => (pending = null)));
    return pending;
  };
  new Gauge({
    name: 'fleet_onboarding_open_items',
    help: 'Required onboarding checklist items open for the client at its last fleet doctor run (all items when never checked).',
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const sample of await read()) this.set({ client: sample.clientId }, sample.openRequired);
    },
  });
  new Gauge({
    name: 'fleet_onboarding_started_timestamp_seconds',
    help: 'Unix time at which the client’s onboarding started (its provisioning).',
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const sample of await read())
        this.set({ client: sample.clientId }, Math.floor(Date.parse(sample.onboardingStartedAt) / 1000));
    },
  });
}
