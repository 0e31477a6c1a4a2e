import type { CommandResult, CommandRunner, CommandRunOptions } from '../../../orchestrator/src/adapters/process/command-runner.ts';

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  status?: Record<string, unknown>;
}

const KINDS: Record<string, string> = {
  namespace: 'Namespace',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  networkpolicy: 'NetworkPolicy',
  deployment: 'Deployment',
  pod: 'Pod',
  configmap: 'ConfigMap',
};

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const notFound = (what: string): CommandResult => ({ code: 1, stdout: '', stderr: `Error from server (NotFound): ${what} not found\n` });
const usage = (line: string): CommandResult => ({ code: 1, stdout: '', stderr: `fake cluster: unsupported command ${line}\n` });

function flag(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function matches(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key = '', value] = term.split('=');
    return object.metadata.labels?.[key] === value;
  });
}

/**
 * A small in-memory API server behind the helm and kubectl command lines the Kubernetes runtime issues:
 * objects applied, released, scaled and deleted are kept, and gets answer from them, so a whole
 * provision → kill → deprovision runs through the composed orchestrator without a cluster. A running
 * Deployment (replicas 1) shows one running agent pod. Anything else is refused, so a new command line
 * fails the test instead of passing silently.
 */
export class FakeCluster implements CommandRunner {
  private readonly objects = new Map<string, KubeObject>();
  private readonly releases = new Map<string, string[]>();
  /** ConfigMap data key → the field manager that applied it (server-side apply ownership). */
  private readonly dataOwners = new Map<string, Map<string, string>>();

  async run(command: string, args: readonly string[], options: CommandRunOptions = {}): Promise<CommandResult> {
    const binary = command.split('/').at(-1);
    const line = [binary, ...args].join(' ');
    if (binary === 'helm') return this.helm(args, options.stdin ?? '', line);
    if (binary === 'kubectl') return this.kubectl(args, options.stdin ?? '', line);
    return usage(line);
  }

  /** Objects of a kind in a namespace, as the cluster holds them (for assertions). */
  list(kind: string, namespace?: string): KubeObject[] {
    return [...this.objects.values()].filter((object) => object.kind === kind && (namespace === undefined || object.metadata.namespace === namespace));
  }

  private key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  private put(object: KubeObject, fieldManager?: string): string {
    const key = this.key(object.kind, object.metadata.namespace, object.metadata.name);
    const existing = this.objects.get(key);
    if (object.kind === 'ConfigMap' && fieldManager !== undefined) object = this.applyData(key, existing, object, fieldManager);
    this.objects.set(key, object);
    return key;
  }

  /**
   * Server-side apply of ConfigMap data: the keys other field managers own stay; a key this manager
   * applied before and now leaves out is removed (how removePlacedFile takes a file back).
   */
  private applyData(key: string, existing: KubeObject | undefined, object: KubeObject, fieldManager: string): KubeObject {
    const owners = this.dataOwners.get(key) ?? new Map<string, string>();
    this.dataOwners.set(key, owners);
    const data = { ...(existing?.data ?? {}) };
    for (const [name, owner] of owners) {
      if (owner === fieldManager && !(name in (object.data ?? {}))) {
        delete data[name];
        owners.delete(name);
      }
    }
    for (const [name, value] of Object.entries(object.data ?? {})) {
      data[name] = value;
      owners.set(name, fieldManager);
    }
    return { ...object, data };
  }

  private helm(args: readonly string[], stdin: string, line: string): CommandResult {
    const namespace = flag(args, '--namespace');
    if (args[0] === 'upgrade' && args[1] === '--install' && args[2] && namespace) {
      const values = JSON.parse(stdin) as { clientId: string; replicas: number };
      const labels = { 'io.agentfleet.client': values.clientId, 'io.agentfleet.managed': 'true' };
      const name = `fleet-${values.clientId}`;
      const metadata = { name, namespace, labels };
      this.releases.set(args[2], [
        this.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: { replicas: values.replicas } }),
        this.put({ apiVersion: 'v1', kind: 'Service', metadata }),
        this.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...metadata, name: `${name}-config` } }),
      ]);
      return ok(`Release "${args[2]}" has been upgraded. Happy Helming!\n`);
    }
    if (args[0] === 'uninstall' && args[1]) {
      for (const key of this.releases.get(args[1]) ?? []) this.objects.delete(key);
      this.releases.delete(args[1]);
      return ok(`release "${args[1]}" uninstalled\n`);
    }
    return usage(line);
  }

  private kubectl(args: readonly string[], stdin: string, line: string): CommandResult {
    const [verb, what = '', maybeName] = args;
    const namespace = flag(args, '-n');
    const selector = flag(args, '-l');
    const named = maybeName !== undefined && !maybeName.startsWith('-') ? maybeName : undefined;
    switch (verb) {
      case 'get': {
        const kinds = what.split(',').map((kind) => KINDS[kind]);
        if (kinds.some((kind) => kind === undefined)) return usage(line);
        if (named) {
          const object = this.objects.get(this.key(kinds[0]!, kinds[0] === 'Namespace' ? undefined : namespace, named));
          if (object) return ok(JSON.stringify(object));
          return args.includes('--ignore-not-found') ? ok() : notFound(`${what} "${named}"`);
        }
        const items = [...this.objects.values(), ...this.pods()].filter(
          (object) =>
            kinds.includes(object.kind) &&
            (args.includes('--all-namespaces') || object.metadata.namespace === namespace) &&
            matches(object, selector),
        );
        return ok(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
      }
      case 'apply': {
        const fieldManager = args.find((arg) => arg.startsWith('--field-manager='))?.slice('--field-manager='.length);
        if (!args.includes('--server-side') || fieldManager === undefined) return usage(line);
        for (const object of (JSON.parse(stdin) as { items: KubeObject[] }).items) this.put(object, fieldManager);
        return ok();
      }
      case 'scale': {
        const deployment = this.objects.get(this.key('Deployment', namespace, what.replace('deployment/', '')));
        if (!deployment) return notFound(`deployments.apps "${what.replace('deployment/', '')}"`);
        const replicas = Number(args.find((arg) => arg.startsWith('--replicas='))?.slice('--replicas='.length));
        if (!Number.isInteger(replicas)) return usage(line);
        deployment.spec = { ...deployment.spec, replicas };
        return ok(`${what} scaled\n`);
      }
      case 'delete': {
        const kind = KINDS[what];
        if (!kind) return usage(line);
        // Pods belong to their Deployment here: scaled to zero, they are gone already.
        if (kind === 'Pod') return ok();
        for (const [key, object] of this.objects) {
          const inNamespace = kind === 'Namespace' || object.metadata.namespace === namespace;
          if (object.kind === kind && inNamespace && (named ? object.metadata.name === named : matches(object, selector))) {
            this.objects.delete(key);
            if (kind === 'Namespace') for (const [inner, child] of this.objects) if (child.metadata.namespace === named) this.objects.delete(inner);
          }
        }
        return ok();
      }
      default:
        return usage(line);
    }
  }

  private pods(): KubeObject[] {
    return this.list('Deployment')
      .filter((deployment) => deployment.spec?.replicas === 1)
      .map((deployment) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...deployment.metadata, name: `${deployment.metadata.name}-5d8c7-x2x9q` },
        status: {
          phase: 'Running',
          containerStatuses: [{ name: 'agent', ready: false, state: { running: { startedAt: '2026-05-01T10:00:00Z' } } }],
        },
      }));
  }
}
