/** True for an IANA zone name the platform knows (what the providers accept too). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone.length > 100) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
