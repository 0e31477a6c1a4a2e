import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';

/** The portal's gateway over `registry` with only support access behind it: any other service a route reaches fails the test. */
export function supportOnlyGateway(registry: Registry, support: SupportAccessService): ServicesClientGateway {
  return new ServicesClientGateway({
    registry,
    agents: {} as never,
    views: {} as never,
    killer: {} as never,
    reviver: {} as never,
    support,
    review: {} as never,
  });
}
