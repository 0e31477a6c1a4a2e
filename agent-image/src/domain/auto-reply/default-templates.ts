import type { ReplyLanguage, TemplateType } from '@agent-fleet/kernel/client-config';

/**
 * The built-in reply templates: for each language and auto-send type, one with the correspondent's name
 * and one without (for a sender whose name does not validate). Clients may add their own or override
 * these by id (`autoReply.templates`). Placeholders are filled by code only (see render-reply.ts).
 */

export type ReplyTemplate = { id: string; type: TemplateType; body: string };

type Phrases = { hello: string; helloNamed: string; closing: string } & Record<TemplateType, string>;

const PHRASES: Record<ReplyLanguage, Phrases> = {
  en: {
    helloNamed: 'Hello {{correspondentName}},',
    hello: 'Hello,',
    closing: 'Kind regards,',
    acknowledgement: 'Thank you for your message about "{{originalSubject}}". I have received it and will get back to you shortly.',
    scheduling_confirmation: 'Thank you for your message about "{{originalSubject}}". I confirm {{proposedTime}} and look forward to it.',
    follow_up: 'Thank you for following up on "{{originalSubject}}". I am looking into it and will get back to you shortly.',
  },
  de: {
    helloNamed: 'Guten Tag {{correspondentName}},',
    hello: 'Guten Tag,',
    closing: 'Mit freundlichen Grüßen',
    acknowledgement: 'vielen Dank für Ihre Nachricht zu „{{originalSubject}}“. Ich habe sie erhalten und melde mich in Kürze bei Ihnen.',
    scheduling_confirmation: 'vielen Dank für Ihre Nachricht zu „{{originalSubject}}“. Ich bestätige den Termin am {{proposedTime}} und freue mich darauf.',
    follow_up: 'vielen Dank für Ihre Nachfrage zu „{{originalSubject}}“. Ich kümmere mich darum und melde mich in Kürze bei Ihnen.',
  },
  fr: {
    helloNamed: 'Bonjour {{correspondentName}},',
    hello: 'Bonjour,',
    closing: 'Cordialement,',
    acknowledgement: 'Merci pour votre message concernant « {{originalSubject}} ». Je l’ai bien reçu et je reviens vers vous rapidement.',
    scheduling_confirmation: 'Merci pour votre message concernant « {{originalSubject}} ». Je vous confirme le rendez-vous du {{proposedTime}}.',
    follow_up: 'Merci pour votre relance concernant « {{originalSubject}} ». Je m’en occupe et je reviens vers vous rapidement.',
  },
  es: {
    helloNamed: 'Hola {{correspondentName}}:',
    hello: 'Hola:',
    closing: 'Saludos cordiales,',
    acknowledgement: 'Gracias por su mensaje sobre «{{originalSubject}}». Lo he recibido y le responderé en breve.',
    scheduling_confirmation: 'Gracias por su mensaje sobre «{{originalSubject}}». Le confirmo la cita del {{proposedTime}}.',
    follow_up: 'Gracias por su seguimiento sobre «{{originalSubject}}». Me estoy ocupando de ello y le responderé en breve.',
  },
  it: {
    helloNamed: 'Buongiorno {{correspondentName}},',
    hello: 'Buongiorno,',
    closing: 'Cordiali saluti,',
    acknowledgement: 'grazie per il suo messaggio su «{{originalSubject}}». L’ho ricevuto e le risponderò a breve.',
    scheduling_confirmation: 'grazie per il suo messaggio su «{{originalSubject}}». Le confermo l’appuntamento di {{proposedTime}}.',
    follow_up: 'grazie per il suo sollecito su «{{originalSubject}}». Me ne sto occupando e le risponderò a breve.',
  },
  nl: {
    helloNamed: 'Beste {{correspondentName}},',
    hello: 'Goedendag,',
    closing: 'Met vriendelijke groet,',
    acknowledgement: 'Dank u voor uw bericht over "{{originalSubject}}". Ik heb het ontvangen en kom er binnenkort bij u op terug.',
    scheduling_confirmation: 'Dank u voor uw bericht over "{{originalSubject}}". Ik bevestig de afspraak op {{proposedTime}}.',
    follow_up: 'Dank u voor uw herinnering over "{{originalSubject}}". Ik ben ermee bezig en kom er binnenkort bij u op terug.',
  },
};

const TYPES: TemplateType[] = ['acknowledgement', 'scheduling_confirmation', 'follow_up'];

/** `acknowledgement` → `acknowledgement`, `follow_up` → `follow-up`; the nameless one ends in `-no-name`. */
export function defaultTemplateId(type: TemplateType, named: boolean): string {
  return `${type.replaceAll('_', '-')}${named ? '' : '-no-name'}`;
}

/** The built-in templates of a language, two per type. */
export function defaultTemplates(language: ReplyLanguage): ReplyTemplate[] {
  const phrases = PHRASES[language];
  return TYPES.flatMap((type) =>
    [true, false].map((named) => ({
      id: defaultTemplateId(type, named),
      type,
      body: `${named ? phrases.helloNamed : phrases.hello}\n\n${phrases[type]}\n\n${phrases.closing}\n{{signature}}`,
    })),
  );
}
