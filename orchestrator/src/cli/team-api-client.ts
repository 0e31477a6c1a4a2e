import type { TeamMember } from '../domain/team-member.ts';
import type { OnboardingReport } from '../domain/onboarding-checklist.ts';
import type { PipelineVerdict } from '../services/doctor/monitoring-pipeline.ts';
import type { AddedMember } from '../services/team/team-members.ts';
import type { IssuedSession } from '../services/team/team-sessions.ts';
import type { OrchestratorClient } from './orchestrator-client.ts';

const segment = encodeURIComponent;

/** Options of one `fleet doctor` run. */
export interface DoctorRequest {
  markers: string[];
  sandboxEmulator?: string | undefined;
}

/**
 * `/v1/team`, `/v1/sessions` and the doctor's routes as typed calls. No `actor` is sent: the API takes the
 * member from the session.
 */
export class TeamApiClient {
  readonly #transport: OrchestratorClient;

  constructor(transport: OrchestratorClient) {
    this.#transport = transport;
  }

  async listMembers(): Promise<TeamMember[]> {
    return (await this.#transport.request<{ members: TeamMember[] }>('GET', '/v1/team/members')).members;
  }

  addMember(name: string, email: string): Promise<AddedMember> {
    return this.#transport.request('POST', '/v1/team/members', { name, email });
  }

  removeMember(name: string): Promise<{ member: string; sessionsEnded: number }> {
    return this.#transport.request('POST', `/v1/team/members/${segment(name)}/remove`, {});
  }

  reissue(name: string): Promise<AddedMember> {
    return this.#transport.request('POST', `/v1/team/members/${segment(name)}/reissue`, {});
  }

  enrol(member: string, enrolmentCode: string): Promise<{ member: string; secret: string; uri: string }> {
    return this.#transport.request('POST', '/v1/team/enrol', { member, enrolmentCode });
  }

  login(member: string, code: string): Promise<IssuedSession> {
    return this.#transport.request('POST', '/v1/sessions', { member, code });
  }

  refreshSecondFactor(code: string): Promise<{ member: string; secondFactorAt: string }> {
    return this.#transport.request('POST', '/v1/sessions/current/second-factor', { code });
  }

  async logout(): Promise<void> {
    await this.#transport.request('DELETE', '/v1/sessions/current');
  }

  /** The alerting pipeline as the service last checked it; null when it has no Prometheus or has not checked yet. */
  async monitoring(): Promise<PipelineVerdict | null> {
    return (await this.#transport.request<{ monitoring: PipelineVerdict | null }>('GET', '/v1/monitoring')).monitoring;
  }

  doctor(clientId: string, request: DoctorRequest): Promise<OnboardingReport> {
    return this.#transport.request('POST', `/v1/clients/${segment(clientId)}/doctor`, {
      markers: request.markers,
      ...(request.sandboxEmulator === undefined ? {} : { sandbox: { emulator: request.sandboxEmulator } }),
    });
  }

  attest(
    clientId: string,
    attestation: { item: string; note: string; notApplicable: boolean },
  ): Promise<OnboardingReport> {
    return this.#transport.request('POST', `/v1/clients/${segment(clientId)}/attestations`, attestation);
  }
}
