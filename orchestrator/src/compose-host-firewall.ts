import { IptablesHostFirewall } from './adapters/iptables/iptables-host-firewall.ts';
import { ProcessCommandRunner } from './adapters/process/process-command-runner.ts';
import type { OrchestratorConfig } from './config.ts';
import type { HostFirewall } from './ports/host-firewall.ts';

// iptables lives in sbin, which an unprivileged PATH often leaves out.
const COMMAND_PATH = `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;

/** The client networks' host firewall (FLEET_HOST_FIREWALL, Docker only); null when off or on Kubernetes. */
export function composeHostFirewall(config: Readonly<Pick<OrchestratorConfig, 'runtime' | 'egress'>>): HostFirewall | null {
  if (config.runtime !== 'docker' || !config.egress.hostFirewall) return null;
  return new IptablesHostFirewall(new ProcessCommandRunner({ PATH: COMMAND_PATH }));
}
