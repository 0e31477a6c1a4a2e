import { IptablesHostFirewall } from './adapters/iptables/iptables-host-firewall.ts';
import { ProcessCommandRunner } from './adapters/process/process-command-runner.ts';
import type { OrchestratorConfig } from './config.ts';
import type { HostEndpoint } from './domain/host-input-rules.ts';
import type { HostFirewall } from './ports/host-firewall.ts';

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;
// iptables lives in sbin, which an unprivileged PATH often leaves out.
const COMMAND_PATH = `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;

/** The client networks' host firewall (FLEET_HOST_FIREWALL, Docker only); null when off or on Kubernetes. */
export function composeHostFirewall(config: Readonly<Pick<OrchestratorConfig, 'runtime' | 'egress'>>): HostFirewall | null {
  if (config.runtime !== 'docker' || !config.egress.hostFirewall) return null;
  return new IptablesHostFirewall(new ProcessCommandRunner({ PATH: COMMAND_PATH }));
}

/** The host endpoints behind listener URLs given by address (a name is not on the host's side of a bridge). */
export function hostEndpointsOf(urls: ReadonlyArray<string | undefined>): HostEndpoint[] {
  return urls.flatMap((raw) => {
    if (raw === undefined) return [];
    const url = new URL(raw);
    if (!IPV4_LITERAL.test(url.hostname)) return [];
    return [{ address: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }];
  });
}
