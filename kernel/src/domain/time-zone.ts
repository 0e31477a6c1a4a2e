/**
 * True for an IANA zone name the platform knows, spelt as the tz database spells it (what the providers
 * accept too). Intl is laxer: it also takes UTC offsets ("+05:00") and any letter case ("europe/london"),
 * which a calendar provider then refuses at the first event; those are refused here instead. An alias is
 * resolved by Intl to another name, so its case cannot be checked here ("us/eastern" passes): what goes to
 * a provider is `canonicalTimeZone`'s name.
 */
export function isTimeZone(zone: string): boolean {
  const resolved = resolvedZone(zone);
  // An alias may resolve to another name (US/Eastern to America/New_York); the same name in another case may not.
  return resolved !== null && (resolved === zone || resolved.toLowerCase() !== zone.toLowerCase());
}

/**
 * The tz database's canonical name of a zone `isTimeZone` accepts, aliases resolved ("US/Eastern" and
 * "us/eastern" to "America/New_York"): the one spelling every provider takes. Null for anything else.
 */
export function canonicalTimeZone(zone: string): string | null {
  return isTimeZone(zone) ? resolvedZone(zone) : null;
}

function resolvedZone(zone: string): string | null {
  if (zone.trim() === '' || zone.length > 100 || /^[+-]/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
