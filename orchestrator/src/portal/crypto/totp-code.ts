import { verify } from 'otplib';

/** One 30-second step either side of now: clocks of phones drift. */
const EPOCH_TOLERANCE_SECONDS = 30;

/**
 * The time step of `code` when it is a valid six-digit TOTP code of `secret` at `now`, else null. Callers
 * record the step so each code is accepted once (client admins in the portal, team members on the ops API).
 */
export async function acceptedTotpStep(secret: string, code: string, now: Date): Promise<number | null> {
  if (!/^[0-9]{6}$/.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: EPOCH_TOLERANCE_SECONDS,
  }).catch(() => null);
  return result?.valid && 'timeStep' in result ? result.timeStep : null;
}
