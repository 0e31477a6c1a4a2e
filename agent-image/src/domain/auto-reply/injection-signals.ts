import { domainOf, normaliseAddress } from '@agent-fleet/kernel/email-address';
import { organisationalDomain } from '../sender-authentication/organisational-domain.ts';
import { foldText } from './confusables.ts';
import { lookalikeOf } from './lookalike-domain.ts';

/**
 * Signs that an inbound message tries to steer the assistant. They are facts, recorded in the audit and
 * shown to the approver, not a gate of their own: a message with any signal never gets an auto-send,
 * and that is all. Simple, documented heuristics (English, German, French, Spanish, Italian, Dutch),
 * matched on the subject and body folded by confusables.ts, so look-alike letters do not hide a word:
 *   addresses_assistant  speaks to an AI/assistant/bot, or tells it to ignore its instructions
 *   rule_change          asks to change or lift rules, settings, approvals or limits
 *   recipient_change     asks to forward, copy in, or reply to another address
 *   bank_details         bank or payment details, an IBAN, a changed account
 *   approval_claim       claims something was already approved or authorised (by an admin, a boss…)
 *   lookalike_sender     the sender's domain imitates a known contact's domain (lookalike-domain.ts)
 *   reply_to_elsewhere   Reply-To names a domain outside the sender's organisation
 * False positives cost an approval; false negatives are caught by the template rule (an auto-sent
 * reply can only say what a template says). Pure.
 */

export type InjectionSignal =
  | 'addresses_assistant'
  | 'rule_change'
  | 'recipient_change'
  | 'bank_details'
  | 'approval_claim'
  | 'lookalike_sender'
  | 'reply_to_elsewhere';

const ADDRESS = String.raw`[^\s@<>"]+@[^\s@<>"]+\.[a-z]{2,}`;

const PATTERNS: Record<Exclude<InjectionSignal, 'lookalike_sender' | 'reply_to_elsewhere'>, RegExp[]> = {
  addresses_assistant: [
    /\b(dear|hi|hello|hey|attention|attn|note to|message (for|to)|instructions? (for|to))\s+(the\s+|my\s+|your\s+)?(ai|a\.i\.|assistant|bot|chatbot|agent|model|llm|chatgpt|claude|gpt)\b/,
    /\b(if you are|as an?|you are an?)\s+(ai|a\.i\.|assistant|bot|language model|llm|automated (system|agent|assistant)|ai agent)\b/,
    /\bignore (all |any )?(of )?(the |your |my )?(previous|prior|above|earlier|preceding|system|original)\b/,
    /\b(system prompt|previous instructions|new instructions|developer mode|jailbreak|prompt injection)\b/,
    // Only the line's own leading blanks: `\s*` would run on over the line breaks after each line start,
    // and a body of blank lines would cost the square of its length.
    /^[^\S\n\r\u2028\u2029]*(ai|assistant|agent|bot|system)\s*[:,]/m,
    /<\/?(system|instructions?|assistant|im_start|im_end)>|\[(system|inst)\]/,
    /\b(liebe[rs]?|hallo|an den|an die)\s+(ki|assistent(in)?|bot|agent)\b|\bignorier(e|en)? (alle )?(vorherigen|bisherigen|obigen)\b|\bals (ki|sprachmodell)\b/,
    /\b(cher|chère|bonjour)\s+(ia|assistant|bot|agent)\b|\bignore[rz]? (toutes )?(les )?(instructions|consignes)\b|\ben tant qu'(ia|assistant)\b/,
    /\b(querido|hola|estimado)\s+(ia|asistente|bot|agente)\b|\bignora (todas )?(las )?instrucciones\b|\bcomo (ia|asistente)\b/,
    /\b(caro|ciao|gentile)\s+(ia|assistente|bot|agente)\b|\bignora (tutte )?(le )?istruzioni\b/,
    /\b(beste|hallo)\s+(ai|assistent|bot)\b|\bnegeer (alle )?(vorige|eerdere)\b/,
  ],
  rule_change: [
    /\b(change|update|modify|disable|turn off|switch off|remove|lift|raise|increase|bypass|skip|override|suspend)\b.{0,40}\b(rules?|settings?|polic(y|ies)|limits?|approvals?|restrictions?|filters?|safeguards?|block ?list|allow ?list|whitelist|permissions?|config(uration)?)\b/,
    /\b(limits?|restrictions?|approvals?|rules?)\b.{0,30}\b(removed|lifted|raised|increased|disabled|suspended|waived|no longer (apply|applies|needed|required))\b/,
    /\bno (longer )?(need|needs|require|requires) (an? |any )?approvals?\b|\bwithout (asking|approval|confirmation|review)\b/,
    /\b(limits?|grenzen?|regeln?|freigaben?|genehmigung(en)?|einstellungen)\b.{0,40}\b(aufgehoben|entfernt|erhöht|deaktiviert|geändert|ändern|aufheben|entfernen|erhöhen|deaktivieren)\b/,
    /\b(limites?|règles?|approbations?|validations?|paramètres)\b.{0,40}\b(supprimée?s?|levée?s?|augmentée?s?|désactivée?s?|modifiée?s?|supprimer|lever|augmenter|désactiver|modifier)\b/,
    /\b(l[ií]mites?|reglas?|aprobaci[oó]n|configuraci[oó]n)\b.{0,40}\b(eliminad[oa]s?|levantad[oa]s?|aumentad[oa]s?|desactivad[oa]s?|cambiad[oa]s?|eliminar|aumentar|desactivar|cambiar)\b/,
    /\b(limiti|regole|approvazioni?)\b.{0,40}\b(rimoss[ie]|revocat[ie]|aumentat[ie]|disattivat[ie]|modificat[ie]|rimuovere|aumentare|disattivare)\b/,
    /\b(limieten?|regels?|goedkeuring(en)?|instellingen)\b.{0,40}\b(verwijderd|opgeheven|verhoogd|uitgeschakeld|gewijzigd|verwijderen|opheffen|verhogen|uitschakelen|wijzigen)\b/,
  ],
  recipient_change: [
    /\b(forward(ed|ing)?|fwd|redirect|relay)\b.{0,80}\b(to|at)\b/,
    new RegExp(String.raw`\b(send|email|mail|copy|cc|bcc|include|add|loop in|share)\b.{0,60}\b(to|at|in)\b\s*:?\s*<?${ADDRESS}`),
    new RegExp(String.raw`\b(reply|respond|answer|write back|send (your )?(reply|answer|response))\b.{0,40}\b(to|at)\b\s*:?\s*<?${ADDRESS}`),
    /\b(new|updated|different|alternative|private|personal|other) (e-?mail( address)?|address)\b/,
    /\bauto-?forward|\bweiterleit|\bleite[nt]? .{0,60}\bweiter\b|\bneue (e-?mail-?)?adresse\b|\bin (cc|kopie) (setzen|nehmen)\b/,
    /\btransf[ée]r(er|ez|é)|\bfaites suivre\b|\bnouvelle adresse\b|\bmettre en copie\b/,
    /\breenv[ií](e|a|ar)\b|\bnueva direcci[oó]n\b|\bponer en copia\b/,
    /\binoltra(re|te)?\b|\bnuovo indirizzo\b|\bmettere in copia\b/,
    /\bdoorsturen|\bstuur .{0,40}\bdoor\b|\bnieuw (e-?mail)?adres\b/,
  ],
  bank_details: [
    /\b[a-z]{2}\d{2} ?(?:[a-z0-9]{4} ?){2,7}[a-z0-9]{1,4}\b/,
    /\b(bank (details|account|information|info)|account (number|details)|routing number|sort code|swift( code)?|bic|iban|wire (transfer|instructions)|payment (details|instructions|information)|remittance|beneficiary)\b/,
    /\b(bankverbindung|kontonummer|kontodaten|überweisung|zahlungsdaten|neue[sn]? konto)\b/,
    /\b(coordonnées bancaires|rib|virement|numéro de compte|nouveau compte)\b/,
    /\b(datos bancarios|cuenta bancaria|n[uú]mero de cuenta|transferencia|nueva cuenta)\b/,
    /\b(coordinate bancarie|conto corrente|bonifico)\b/,
    /\b(bankgegevens|rekeningnummer|overschrijving)\b/,
  ],
  approval_claim: [
    /\b(already|pre-?|has been|have been|was|were) ?(approved|authori[sz]ed|cleared|signed off|okayed)\b/,
    /\b(approved|authori[sz]ed|ok'?e?d|signed off|cleared) by\b/,
    /\b(your|the) (admin(istrator)?|boss|manager|ceo|cfo|owner|it (department|team)|security team|assistant's owner)\b.{0,40}\b(asked|told|said|says|approved|authori[sz]ed|wants|instructed|requested|confirmed)\b/,
    /\bon behalf of (your|the) (admin(istrator)?|boss|ceo|owner|manager)\b|\b(approval|authori[sz]ation) (code|token|id|number)\b/,
    /\b(bereits |schon )?(genehmigt|freigegeben|autorisiert)\b|\b(ihr|dein|der) (chef|administrator|admin|geschäftsführer|vorgesetzte[r]?)\b.{0,40}\b(hat|bittet|sagt|möchte)\b/,
    /\b(déjà )?(approuvée?|autorisée?|validée?) par\b|\bvotre (administrateur|responsable|patron|directeur)\b.{0,40}\b(a demandé|demande|a approuvé|souhaite)\b/,
    /\b(ya )?(aprobad[oa]|autorizad[oa]) por\b|\bsu (administrador|jefe|director)\b.{0,40}\b(pidi[oó]|pide|aprob[oó]|quiere)\b/,
    /\b(già )?(approvat[oa]|autorizzat[oa]) da\b|\b(goedgekeurd|geautoriseerd) door\b/,
  ],
};

/** Longer text is cut before matching: the heuristics read the start, where instructions sit. */
export const INJECTION_SCAN_CHARS = 100_000;

export type InboundForSignals = {
  subject: string;
  textBody: string;
  fromAddress: string | null;
  replyTo: readonly string[];
};

/** The signals of the text itself (not of its sender), in the order of InjectionSignal. */
export function textSignals(raw: string): InjectionSignal[] {
  return scan(raw.slice(0, INJECTION_SCAN_CHARS));
}

function scan(raw: string): InjectionSignal[] {
  const text = foldText(raw).replace(/[ \t]+/g, ' ');
  const signals: InjectionSignal[] = [];
  for (const [signal, patterns] of Object.entries(PATTERNS) as [InjectionSignal, RegExp[]][]) {
    if (patterns.some((pattern) => pattern.test(text))) signals.push(signal);
  }
  return signals;
}

/** Every signal the inbound message shows, in the order of InjectionSignal. */
export function injectionSignals(message: InboundForSignals, knownDomains: Iterable<string>): InjectionSignal[] {
  // Each cut on its own: a subject of INJECTION_SCAN_CHARS characters must not push the whole body out of the scan.
  const signals = scan(`${message.subject.slice(0, INJECTION_SCAN_CHARS)}\n${message.textBody.slice(0, INJECTION_SCAN_CHARS)}`);
  // The raw domain, not the normalised address: a Unicode (homoglyph) domain is not a valid address.
  const rawDomain = message.fromAddress === null ? '' : message.fromAddress.slice(message.fromAddress.lastIndexOf('@') + 1);
  if (lookalikeOf(rawDomain, knownDomains) !== null) signals.push('lookalike_sender');
  const from = message.fromAddress === null ? undefined : normaliseAddress(message.fromAddress);
  const fromOrg = from === undefined ? null : organisationalDomain(domainOf(from));
  const elsewhere = message.replyTo.some((raw) => {
    const address = normaliseAddress(raw);
    return address === undefined || organisationalDomain(domainOf(address)) !== fromOrg;
  });
  if (elsewhere) signals.push('reply_to_elsewhere');
  return signals;
}
