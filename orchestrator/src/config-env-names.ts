// Misspelt setting names in the orchestrator's environment (config.ts merges these issues in). An
// environment variable nobody reads is ignored, so `AGENT_OCI_RUNTIM=runsc` would run agents without the
// sandbox and `PORTAL_LOGIN_MAX_FAILURE=3` would keep 5, each without a word. A variable that is one of the
// settings written in another case, or one or two letters away from one (sharing its first word, so that
// other tools' variables such as KUBE_CONFIG or VAULT_TOKEN are left alone), is refused by name instead.

/** Names shorter than this are too short to call a near miss with any confidence. */
const MIN_NAME_LENGTH = 8;
/** Edits (a letter added, dropped, changed, or two swapped) that still make a near miss. */
const MAX_EDITS = 2;
/** Longer names are not settings of anyone's: skipped rather than compared. */
const MAX_NAME_LENGTH = 100;

/** Edits between `a` and `b` (optimal string alignment), or MAX_EDITS + 1 once it is more than MAX_EDITS. */
function edits(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_EDITS) return MAX_EDITS + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let cost = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cost = Math.min(cost, (before[j - 2] ?? 0) + 1);
      current.push(cost);
    }
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length] ?? 0, MAX_EDITS + 1);
}

const firstWord = (name: string): string => name.split('_')[0] ?? name;

/** The setting `name` is a misspelling of, or undefined. */
function intendedSetting(name: string, settings: readonly string[]): string | undefined {
  if (name.length < MIN_NAME_LENGTH || name.length > MAX_NAME_LENGTH || settings.includes(name)) return undefined;
  const upper = name.toUpperCase();
  if (settings.includes(upper)) return upper;
  return settings.find((setting) => firstWord(setting) === firstWord(upper) && edits(upper, setting) <= MAX_EDITS);
}

/** One issue per variable of `env` that looks like a misspelt setting of `settings`, naming both. */
export function misspeltSettingIssues(env: NodeJS.ProcessEnv, settings: readonly string[]): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  for (const name of Object.keys(env)) {
    const intended = intendedSetting(name, settings);
    if (intended === undefined) continue;
    const unset = env[intended] === undefined ? ', which is unset, so its default would apply instead' : '';
    issues.push({ path: [name], message: `is not a setting: did you mean ${intended}${unset}? Rename or remove it` });
  }
  return issues;
}
