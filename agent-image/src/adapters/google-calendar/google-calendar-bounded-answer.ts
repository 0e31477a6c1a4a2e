import type { MethodOptions } from 'googleapis/build/src/apis/calendar/index.js';
import { boundedAnswer } from '../gmail/gmail-bounded-response.ts';

type GaxiosAdapter = NonNullable<MethodOptions['adapter']>;

/**
 * boundedAnswer for calendar calls, with an error answer's body kept. gaxios hands an error its body only
 * when the Response says the body was read (`bodyUsed`), which the bounded read of its stream does not
 * set: without this a 403's reason (insufficientPermissions, rateLimitExceeded) would be lost, and a
 * missing scope or a rate limit read as a plain refusal.
 */
export function boundedCalendarAnswer(limitBytes: number): GaxiosAdapter {
  const bounded = boundedAnswer(limitBytes);
  const adapter = async (options: Parameters<GaxiosAdapter>[0], defaultAdapter: Parameters<GaxiosAdapter>[1]) => {
    const response = await bounded(options, defaultAdapter);
    if (!response.bodyUsed && response.data !== undefined) Object.defineProperty(response, 'bodyUsed', { value: true });
    return response;
  };
  return adapter as GaxiosAdapter;
}
