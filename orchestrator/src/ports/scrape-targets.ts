import type { ClientId } from '@agent-fleet/kernel/client-id';

export interface ScrapeTarget {
  clientId: ClientId;
  /** host:port of the agent's exporter, reachable by Prometheus. */
  address: string;
}

/** Where Prometheus learns which agents to scrape (file_sd on one host, ServiceMonitor on Kubernetes). */
export interface ScrapeTargets {
  register(target: ScrapeTarget): Promise<void>;
  unregister(clientId: ClientId): Promise<void>;
  list(): Promise<ScrapeTarget[]>;
}
