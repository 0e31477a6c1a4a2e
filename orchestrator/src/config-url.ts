// URL rules shared by the orchestrator's environment schema (config.ts, config-portal.ts, config-doctor.ts).

/** True unless the URL carries a user name or password (`https://user:pass@host/`). */
export function hasNoUserInfo(value: string): boolean {
  if (!URL.canParse(value)) return true; // not a URL at all: z.url() reports that
  const url = new URL(value);
  return url.username === '' && url.password === '';
}

/**
 * Why a URL with `user:pass@` is refused: a secret in the environment ends up in process listings, env
 * files and logs (STYLE: secret values never live in config), and fetch() refuses such a URL anyway, so
 * it would fail only once used, far from the setting that caused it.
 */
export const NO_USER_INFO =
  'must not contain a user name or password (user:pass@): keep credentials in the secret store, not in the URL';
