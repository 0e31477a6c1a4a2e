// Comma-separated settings (PORTAL_TLS_NAMES, FLEET_EGRESS_EXTRA_HOSTS): a refusal names the entries at fault.

const SHOWN_ENTRIES = 3;
const SHOWN_CHARACTERS = 60;

/** `"a", "b" and 2 more are not`: the first few bad entries, quoted and cut short, for the end of a refusal. */
export function badEntriesNotice(bad: readonly string[]): string {
  const shown = bad
    .slice(0, SHOWN_ENTRIES)
    .map((entry) => JSON.stringify(entry.length > SHOWN_CHARACTERS ? `${entry.slice(0, SHOWN_CHARACTERS)}…` : entry))
    .join(', ');
  const more = bad.length > SHOWN_ENTRIES ? ` and ${bad.length - SHOWN_ENTRIES} more` : '';
  return `${shown}${more} ${bad.length === 1 ? 'is' : 'are'} not`;
}
