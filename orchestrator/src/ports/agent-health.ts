/** Asks an agent whether it is alive, through its control port. */
export interface AgentHealthProbe {
  /** True when `/healthz` answers 200 within the probe's own short timeout. */
  isHealthy(controlAddress: string): Promise<boolean>;
}
