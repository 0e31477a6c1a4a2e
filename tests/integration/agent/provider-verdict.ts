export type ProviderKind = 'gmail' | 'outlook';

/**
 * The Authentication-Results header the receiving provider writes for mail that passed SPF, DKIM and
 * DMARC for its From domain: Gmail's form (authserv-id mx.google.com) or Exchange Online's (no
 * authserv-id, compauth). `verdict` 'fail' writes the header of a message whose DMARC check failed.
 */
export function providerAuthenticationResults(kind: ProviderKind, from: string, verdict: 'pass' | 'fail' = 'pass'): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const spf = verdict === 'pass' ? 'pass' : 'softfail';
  const dkim = verdict === 'pass' ? 'pass' : 'none';
  if (kind === 'gmail') {
    return (
      `mx.google.com; dkim=${dkim} header.i=@${domain} header.s=s1 header.b=Xb3kLm+q; ` +
      `spf=${spf} (google.com: domain of ${address} designates 192.0.2.25 as permitted sender) smtp.mailfrom=${address}; ` +
      `dmarc=${verdict} (p=REJECT sp=REJECT dis=${verdict === 'pass' ? 'NONE' : 'REJECT'}) header.from=${domain}`
    );
  }
  return (
    `spf=${spf} (sender IP is 192.0.2.25) smtp.mailfrom=${domain}; dkim=${dkim} (signature was verified) header.d=${domain};` +
    `dmarc=${verdict} action=${verdict === 'pass' ? 'none' : 'oreject'} header.from=${domain};compauth=${verdict} reason=${verdict === 'pass' ? '100' : '000'}`
  );
}

/** Seeded mail as the provider delivers it: with its own Authentication-Results verdict on top, unless the seed brings one. */
export function withProviderVerdict(kind: ProviderKind, seed: { from: string; headers?: Record<string, string> }): Record<string, string> {
  const headers = seed.headers ?? {};
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authentication-results')) return headers;
  return { 'Authentication-Results': providerAuthenticationResults(kind, seed.from), ...headers };
}
