/**
 * True for an IANA zone name the platform knows, spelt as the tz database spells it (what the providers
 * accept too). Intl is laxer: it also takes UTC offsets ("+05:00") and any letter case ("europe/london"),
 * which a calendar provider then refuses at the first event; those are refused here instead.
 */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone.length > 100 || /^[+-]/.test(zone)) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // An alias may resolve to another name (US/Eastern to America/New_York); the same name in another case may not.
  return resolved === zone || resolved.toLowerCase() !== zone.toLowerCase();
}
