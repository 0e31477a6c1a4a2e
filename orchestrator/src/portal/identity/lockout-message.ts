import type { DeviceKind } from './totp.ts';

/**
 * When codes are accepted again, as a person reads it: the minute rounded up (a lockout that ends at 10:14:30
 * is over at 10:15, not at 10:14), in UTC, with the date when it is not today's.
 */
export function tryAgainAt(until: Date, now: Date): string {
  const minute = new Date(Math.ceil(until.getTime() / 60_000) * 60_000);
  const iso = minute.toISOString();
  const time = `${iso.slice(11, 16)} UTC`;
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

/** What the sign-in page says when codes from this browser are refused for now. */
export function lockoutMessage(device: DeviceKind, until: Date, now: Date): string {
  const text = `Too many attempts from this device: try again at ${tryAgainAt(until, now)}, or use your passkey.`;
  return device === 'known'
    ? text
    : `${text} A browser you have signed in with before can still use your codes.`;
}
