import { domainToASCII, domainToUnicode } from 'node:url';

// Internationalised host names (IDNs): a rule may be written in Unicode (`bücher.de`), and is kept and
// compared in the ASCII form that DNS, TLS and every CONNECT carry (`xn--bcher-kva.de`).

/** ASCII a Unicode name may hold besides its own letters: what an ASCII name may hold. */
const ASCII_OF_A_NAME = /^[\x80-\u{10FFFF}a-z0-9.-]*$/u;

const PUNYCODE_PREFIX = 'xn--';

/**
 * The ASCII (punycode) form of a lower-cased host name that holds non-ASCII characters, by the URL
 * standard's UTS #46 mapping (`MAÑANA.com` and `ｍａñａｎａ．com` are both `xn--maana-pta.com`); null when it
 * does not convert. ASCII beyond letters, digits, dots and hyphens is refused first: the converter would
 * decode `%61` and cut the name at `/`, `?` or `\`, turning it into another name than the one written. So
 * is a name whose every label maps to plain ASCII (`ｌｏｃａｌｈｏｓｔ`, `１２７.０.０.１`, `ⓔxample.com`): an ASCII
 * name or address in look-alike characters, which is to be written as the ASCII it is.
 */
export function asciiOfUnicodeHost(host: string): string | null {
  if (!ASCII_OF_A_NAME.test(host)) return null;
  const ascii = domainToASCII(host);
  const internationalised = ascii.split('.').some((label) => label.startsWith(PUNYCODE_PREFIX));
  return ascii === '' || !internationalised ? null : ascii;
}

/** Letters of these scripts look alike (`а`/`a`, `ο`/`o`, `р`/`p`): one label mixing them passes for another name. */
const LOOK_ALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Greek}/u, /\p{Script=Cyrillic}/u];
/** What an IDN label may hold: letters, combining marks, digits and hyphens (no symbols, emoji or punctuation). */
const IDN_LABEL = /^[\p{L}\p{M}\p{N}-]+$/u;

/**
 * Why the punycode labels of an ASCII name are not fit for an operator's rule, or null when they are (an
 * all-ASCII name always is). A label must decode, and encode back to itself (one spelling per name); hold
 * only letters, marks, digits and hyphens; and not mix Latin, Greek and Cyrillic letters (UTS #39's mixed-script
 * rule for the scripts that share look-alike letters). A name wholly in one script that mimics another
 * (Cyrillic `аррӏе`) is not caught: that needs Unicode's confusables data.
 */
export function idnLabelProblem(asciiName: string): string | null {
  for (const label of asciiName.split('.')) {
    if (!label.startsWith(PUNYCODE_PREFIX)) continue;
    const unicode = domainToUnicode(label);
    if (unicode === label || domainToASCII(unicode) !== label) return `label ${label} is not valid punycode`;
    if (!IDN_LABEL.test(unicode)) return `label ${unicode} holds a character that is no letter, digit or hyphen`;
    const scripts = LOOK_ALIKE_SCRIPTS.filter((script) => [...unicode].some((character) => script.test(character)));
    if (scripts.length > 1) return `label ${unicode} mixes Latin, Greek or Cyrillic letters, which look alike`;
  }
  return null;
}
