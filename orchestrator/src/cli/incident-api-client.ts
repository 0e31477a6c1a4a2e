import type { IncidentSeverity } from '../ports/incident-store.ts';
import type { ContainResult } from '../services/incidents/incident-containment.ts';
import type { EvidenceResult } from '../services/incidents/incident-evidence.ts';
import type { RenderedReport } from '../services/incidents/incident-report.ts';
import type { IncidentView } from '../services/incidents/incident-service.ts';
import type { NotificationChannel } from '../services/incidents/incident-transitions.ts';
import type { OrchestratorClient } from './orchestrator-client.ts';

export interface ContainOptions {
  kill: boolean;
  rotate: boolean;
  revokeOauth: boolean;
  client?: string | undefined;
  reason?: string | undefined;
}

export interface NotifyOptions {
  channel: NotificationChannel;
  client?: string | undefined;
  at?: string | undefined;
  by?: string | undefined;
  recipient?: string | undefined;
}

const incidentPath = (id: string, suffix = '') => `/v1/incidents/${encodeURIComponent(id)}${suffix}`;

/** Drops the options not given, so the API applies its defaults. */
function given<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** `/v1/incidents` as typed calls; writes carry `actor`, the operator identity for the ops log. */
export class IncidentApiClient {
  readonly #transport: OrchestratorClient;
  readonly #actor: string;

  constructor(transport: OrchestratorClient, actor: string) {
    this.#transport = transport;
    this.#actor = actor;
  }

  open(input: { severity: IncidentSeverity; summary: string; clients: string[] }): Promise<IncidentView> {
    return this.#transport.request('POST', '/v1/incidents', { ...input, actor: this.#actor });
  }

  async list(all: boolean): Promise<IncidentView[]> {
    return (await this.#transport.request<{ incidents: IncidentView[] }>('GET', `/v1/incidents${all ? '?all=true' : ''}`)).incidents;
  }

  show(id: string): Promise<IncidentView> {
    return this.#transport.request('GET', incidentPath(id));
  }

  contain(id: string, options: ContainOptions): Promise<ContainResult> {
    return this.#transport.request('POST', incidentPath(id, '/contain'), { ...given(options), actor: this.#actor });
  }

  evidence(id: string, client: string | undefined): Promise<EvidenceResult> {
    return this.#transport.request('POST', incidentPath(id, '/evidence'), { ...given({ client }), actor: this.#actor });
  }

  /** Copies the plaintext archive of one sealed bundle to `sink`; the actor needs a fresh sign-in code. */
  downloadEvidence(id: string, bundle: string, sink: NodeJS.WritableStream): Promise<void> {
    return this.#transport.download(incidentPath(id, `/evidence/${encodeURIComponent(bundle)}?actor=${encodeURIComponent(this.#actor)}`), sink);
  }

  note(id: string, text: string, assessment: boolean): Promise<IncidentView> {
    return this.#transport.request('POST', incidentPath(id, '/notes'), { text, assessment, actor: this.#actor });
  }

  confirm(id: string, scope: string): Promise<IncidentView> {
    return this.#transport.request('POST', incidentPath(id, '/confirm'), { scope, actor: this.#actor });
  }

  notify(id: string, options: NotifyOptions): Promise<IncidentView> {
    return this.#transport.request('POST', incidentPath(id, '/notify'), { ...given(options), actor: this.#actor });
  }

  close(id: string, input: { rootCause: string; lessons: string; remediation?: string | undefined; containmentOverride?: string | undefined }): Promise<IncidentView> {
    return this.#transport.request('POST', incidentPath(id, '/close'), { ...given(input), actor: this.#actor });
  }

  /**
   * The post-incident report; `client`: the report for one of its clients only. `includeIncidentText`: the
   * incident-wide text (summary, scope, causes, notes) goes in a client's report of a multi-client incident too.
   */
  report(id: string, client?: string, includeIncidentText = false): Promise<RenderedReport> {
    return this.#transport.request('POST', incidentPath(id, '/report'), {
      actor: this.#actor,
      ...(client === undefined ? {} : { client }),
      ...(includeIncidentText ? { includeIncidentText } : {}),
    });
  }
}
