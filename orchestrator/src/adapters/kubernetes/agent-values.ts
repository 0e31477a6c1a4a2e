/** The values of charts/fleet-agent (see its values.yaml for what each one means). */
export interface FleetAgentValues {
  clientId: string;
  image: { repository: string; tag: string; digest: string; pullPolicy: 'IfNotPresent' | 'Always' | 'Never' };
  imagePullSecrets: string[];
  replicas: 0 | 1;
  user: { uid: number; gid: number };
  resources: {
    limits: { memory: string; cpu: string };
    requests: { memory: string; cpu: string };
  };
  pidsLimit: number;
  tmp: { sizeLimit: string };
  persistence: { create: boolean; claimName: string; size: string; storageClassName: string };
  config: string;
  env: Record<string, string>;
  terminationGracePeriodSeconds: number;
  runtimeClassName: string;
  userNamespaces: { enabled: boolean };
  probes: { periodSeconds: number; timeoutSeconds: number; failureThreshold: number; startupFailureThreshold: number };
  networkPolicy: {
    monitoringNamespace: string;
    dns: { namespace: string; podLabels: Record<string, string> };
    httpsEgress: { except: string[] };
    orchestrator: { enabled: boolean; namespace: string };
    vault: { enabled: boolean; namespace: string; port: number };
  };
  vault: {
    address: string;
    /** PEM of the CA Vault's TLS chains to; empty: the image's trust store. */
    caCertificate: string;
    /** KV v2 mount of the clients' paths (the agent's TLS bundle is read from it). */
    kvMount: string;
    role: string;
    authPath: string;
    prePopulateOnly: boolean;
    agentResources: { requestsCpu: string; requestsMem: string; limitsCpu: string; limitsMem: string };
    serviceAccountTokenExpirationSeconds: number;
    serviceAccountTokenAudience: string;
  };
  metrics: { scrapeAnnotations: boolean; serviceMonitor: { enabled: boolean; interval: string; labels: Record<string, string> } };
}
