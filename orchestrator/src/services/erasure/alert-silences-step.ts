import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AlertSilences } from '../../ports/alert-silences.ts';
import type { ErasureStep } from './deletion-certificate.ts';

/** What Alertmanager's API cannot remove, said on every certificate whatever this step did. */
const KEPT = "Alertmanager's API can expire silences but delete neither them nor alerts: the client's alerts (labels, annotations, times) and its expired silences stay in Alertmanager until its own retention (--data.retention, 120 h by default) drops them";

/**
 * The client's silences in Alertmanager (their matchers name it; their comments and authors may name its
 * people): expired at the client's deletion (an erasure, or a purge), and the step says what Alertmanager
 * keeps regardless. Never skipped in silence.
 */
export async function expireAlertSilences(deps: { alertSilences?: AlertSilences | undefined; logger: Logger }, clientId: ClientId): Promise<ErasureStep> {
  if (deps.alertSilences === undefined) {
    return { what: 'alertmanager', outcome: 'not-configured', detail: `no Alertmanager is configured: silences matching client="${clientId}" were not expired there (expire them with DELETE /api/v2/silence/{id}); ${KEPT}` };
  }
  const result = await deps.alertSilences.expireClientSilences(clientId);
  if (result.outcome === 'failed') deps.logger.error('alert silences of a deleted client not expired', { client: clientId, detail: result.detail });
  return { what: 'alertmanager', outcome: result.outcome, detail: `${result.detail}; ${KEPT}` };
}
