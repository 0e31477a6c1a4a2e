import { FleetError } from '../domain/fleet-error.ts';

/**
 * `pending`'s outcome, or a retryable FleetError('timeout') saying `timeoutMessage` once `ms` passed without
 * one. The work goes on; its late outcome is dropped (a late failure is never an unhandled rejection).
 */
export function answerWithin<T>(pending: Promise<T>, ms: number, timeoutMessage: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FleetError('timeout', timeoutMessage, { retryable: true })), ms);
    timer.unref();
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
