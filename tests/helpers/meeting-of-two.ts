/**
 * A meeting of two parties (two processes on one registry, in a race test): each party's first call to its
 * `meet` waits until the other party has called its own, so both have come to their decision before either
 * records anything, every time. Later calls pass at once. `party()` gives the next party its `meet`.
 */
export function meetingOfTwo(): { party: () => () => Promise<void> } {
  let arrived = 0;
  let bothArrived = (): void => undefined;
  const meeting = new Promise<void>((resolve) => {
    bothArrived = resolve;
  });
  return {
    party: () => {
      let met = false;
      return async () => {
        if (met) return;
        met = true;
        arrived += 1;
        if (arrived === 2) bothArrived();
        await meeting;
      };
    },
  };
}
