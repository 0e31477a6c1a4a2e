import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { CommandRunner } from '../process/command-runner.ts';
import { KubernetesContainerRuntime } from './kubernetes-container-runtime.ts';
import { ProcessCommandRunner } from '../process/process-command-runner.ts';

/**
 * The Kubernetes runtime from the orchestrator's settings. `runner` replaces the real helm/kubectl
 * processes (tests record the command lines); by default they run with only `commandEnv` as environment.
 * `vaultCaPem` is VAULT_CACERT's content, which agents verify Vault against too.
 */
export function kubernetesRuntimeFromConfig(
  config: Pick<OrchestratorConfig, 'kubernetes' | 'vault'>,
  logger: Logger,
  runner: CommandRunner = new ProcessCommandRunner(config.kubernetes.commandEnv),
  vaultCaPem: string | null = null,
): KubernetesContainerRuntime {
  const k8s = config.kubernetes;
  // Agents reach Vault at the address made for them (VAULT_AGENT_ADDR); the embedded store is not an option here.
  const vaultAddress = config.vault.kind === 'external' ? config.vault.agentAddress : '';
  return new KubernetesContainerRuntime({
    runner,
    helmPath: k8s.helmPath,
    kubectlPath: k8s.kubectlPath,
    chartPath: k8s.chartPath,
    clusterDomain: k8s.clusterDomain,
    ...(k8s.context === undefined ? {} : { kubeContext: k8s.context }),
    agent: {
      vault: {
        address: vaultAddress,
        ...(k8s.vaultNamespace === undefined ? {} : { namespace: k8s.vaultNamespace }),
        ...(vaultCaPem === null ? {} : { caCertificatePem: vaultCaPem }),
      },
      monitoringNamespace: k8s.monitoringNamespace,
      orchestratorNamespace: k8s.orchestratorNamespace,
      volumeSize: k8s.volumeSize,
      ...(k8s.storageClassName === undefined ? {} : { storageClassName: k8s.storageClassName }),
    },
    logger,
  });
}
