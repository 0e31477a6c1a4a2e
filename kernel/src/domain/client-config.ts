import * as z from 'zod';
import { autoReplyConfigSchema } from './auto-reply-config.ts';
import { CLIENT_ID_RULE } from './client-id.ts';
import { normaliseAddress } from './email-address.ts';
import { PUBSUB_TOPIC_RULE } from './pubsub-topic.ts';
import { isTimeZone } from './time-zone.ts';
import { FleetError } from './fleet-error.ts';

/**
 * The per-client agent configuration (one YAML file per client). Every field has a default so that a
 * client provisioned "on embedded defaults" gets the spec's safe settings: draft-review-send for the
 * first 28 days, 20 recipients an hour, 100 a day, approvals expiring after 72 hours, sending off.
 */

const capabilities = [
  'mail.read',
  'mail.draft',
  'mail.send',
  'mail.delete',
  'mail.label',
  'mail.move',
  'calendar.read',
  'calendar.write',
  'files.read',
  'files.write',
  'files.share',
  'files.delete',
  'crm.read',
  'crm.write',
] as const;
export const CAPABILITIES = capabilities;
export type Capability = (typeof capabilities)[number];

const emailTypes = [
  'acknowledgement',
  'scheduling_confirmation',
  'follow_up',
  'scheduling',
  'question',
  'routine',
  'offer',
  'negotiation',
  'client_facing',
  'sensitive',
  'new_contact',
  'complaint',
  'legal',
  'financial',
  'spam',
  'newsletter',
  'other',
] as const;
export const EMAIL_TYPES = emailTypes;
export type EmailType = (typeof emailTypes)[number];

const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM on a 24-hour clock, e.g. "09:00"');

const emailAddress = z
  .string()
  .trim()
  .toLowerCase()
  .refine((address) => normaliseAddress(address) !== undefined, 'must be an email address');

/** `user@example.com`, `example.com` or `*.example.com`. */
const blockListEntry = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (entry) =>
      normaliseAddress(entry) !== undefined ||
      /^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/.test(entry),
    'must be an address (user@example.com), a domain (example.com) or a subdomain pattern (*.example.com)',
  );

/** Where a provider pushes notifications: https, or plain http on loopback only (tests). */
const pushUrl = z
  .url()
  .max(2000)
  .refine((url) => /^https:\/\//i.test(url) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//i.test(url), 'must be an https:// URL');

export const clientConfigSchema = z
  .object({
    /** Client id (DNS-1123 label). Required. */
    client: z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, CLIENT_ID_RULE),
    /** Display name used in summaries. Default: the client id. */
    displayName: z.string().min(1).max(200).optional(),
    /** Mail provider. Default: gmail. */
    provider: z.enum(['gmail', 'outlook']).default('gmail'),
    /** The mailbox the agent works in. Optional until the provider is connected. */
    mailbox: emailAddress.optional(),
    /** Client admins: who approve drafts, pull the kill switch and receive summaries and alerts. */
    admins: z.array(emailAddress).max(50).default([]),
    /** IANA time zone of the client, for working hours and the daily summary. Default: UTC. */
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/London"').default('UTC'),
    /** Working hours in the client's time zone; actions outside them count as off-hours. */
    workingHours: z
      .object({
        /** Start of the working day, HH:MM. Default 08:00. */
        start: timeOfDay.default('08:00'),
        /** End of the working day, HH:MM. Default 18:00. */
        end: timeOfDay.default('18:00'),
        /** Working days, 1 = Monday … 7 = Sunday. Default Monday to Friday. */
        days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
      })
      .strict()
      .default({ start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5] }),
    /** Capabilities granted to the agent. Default: read, draft and label mail, read the calendar. */
    permissions: z
      .partialRecord(z.enum(capabilities), z.boolean())
      .default({ 'mail.read': true, 'mail.draft': true, 'mail.label': true, 'calendar.read': true }),
    /** Draft-review-send onboarding window. */
    onboarding: z
      .object({
        /** When onboarding started (ISO 8601). Default: set at provisioning. */
        startedAt: z.iso.datetime({ offset: true }).optional(),
        /** Length of the window in days. Default 28 (weeks 1–4). */
        days: z.number().int().min(0).max(365).default(28),
      })
      .strict()
      .default({ days: 28 }),
    /** Email types that may be sent without approval after onboarding, to known contacts only. */
    autoSendTypes: z
      .array(z.enum(emailTypes))
      .default(['acknowledgement', 'scheduling_confirmation', 'follow_up']),
    /**
     * Auto-sent replies: templates per auto-send type (built-in defaults in the client's language), the
     * signature, and the explicit free-text opt-in per type (none by default). See auto-reply-config.ts.
     */
    autoReply: autoReplyConfigSchema,
    /** Email types that always need approval, whatever else says. */
    alwaysApprovalTypes: z
      .array(z.enum(emailTypes))
      .default(['offer', 'negotiation', 'client_facing', 'sensitive', 'new_contact', 'legal', 'financial']),
    /** Addresses, domains and *.domain patterns the agent must never send to without approval. */
    blockList: z.array(blockListEntry).max(10_000).default([]),
    /** Outbound limits, counted per recipient over rolling windows. */
    rateLimits: z
      .object({
        /** Recipients per rolling hour. Default 20. */
        perHour: z.number().int().min(0).max(10_000).default(20),
        /** Recipients per rolling 24 hours. Default 100. */
        perDay: z.number().int().min(0).max(100_000).default(100),
      })
      .strict()
      .default({ perHour: 20, perDay: 100 }),
    /** A message to more recipients than this is a bulk send and needs approval. Default 5. */
    bulkThreshold: z.number().int().min(1).max(1000).default(5),
    /** Hours before a pending approval expires. Default 72. */
    approvalTimeoutHours: z.number().min(1).max(24 * 30).default(72),
    /** Record every decision but never execute a provider write. Default false. */
    dryRun: z.boolean().default(false),
    /** Daily summary to the admins, at this local time. */
    dailySummary: z
      .object({
        enabled: z.boolean().default(true),
        /** Local time (client time zone), HH:MM. Default 18:00. */
        at: timeOfDay.default('18:00'),
      })
      .strict()
      .default({ enabled: true, at: '18:00' }),
    /** Notes about the client's writing style, given to the model when drafting. */
    styleNotes: z.string().max(4000).default(''),
    /** Known contacts seeded at onboarding (more are learnt from sent mail and the calendar). */
    knownContacts: z.array(emailAddress).max(100_000).default([]),
    /**
     * Filing of each classified message (every write passes the gate: `mail.label`, `mail.move`). Default:
     * label only, so nothing leaves the inbox or looks read and the human still sees everything.
     */
    triage: z
      .object({
        /** Label (Gmail) / category (Outlook) prefix; a message of type T gets "<prefix>/T". Default "AgentFleet". */
        labelPrefix: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/, 'must be 1-40 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit')
          .default('AgentFleet'),
        /** Email types moved out of the inbox (archived, never deleted); needs `mail.move`. Default none. */
        archiveTypes: z.array(z.enum(emailTypes)).default([]),
        /** Email types marked read once labelled (a flag change, gated as `mail.label`). Default none. */
        markReadTypes: z.array(z.enum(emailTypes)).default([]),
      })
      .strict()
      .default({ labelPrefix: 'AgentFleet', archiveTypes: [], markReadTypes: [] }),
    /** Model used for triage and drafting. */
    model: z.string().min(1).max(100).default('claude-sonnet-4-5'),
    /**
     * Push notifications on top of polling (which stays the safety net and backfill). Default: off. Push is
     * on when the field for the client's provider is set. The secret notifications must present (Graph
     * clientState, Gmail push token) is generated by the agent and kept in Vault, never here.
     */
    push: z
      .object({
        /** Gmail: Cloud Pub/Sub topic `projects/<project>/topics/<topic>` that Gmail publishes to. */
        gmailTopic: z
          .string()
          .regex(PUBSUB_TOPIC_RULE, 'must be projects/<project-id>/topics/<topic>')
          .optional(),
        /**
         * Outlook: the agent's public `POST /v1/mail-notifications` URL that Graph calls. HTTPS (plain
         * http only on loopback, for tests).
         */
        notificationUrl: pushUrl.optional(),
        /** Outlook: where Graph sends lifecycle events. Default: notificationUrl. */
        lifecycleNotificationUrl: pushUrl.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.rateLimits.perHour > config.rateLimits.perDay) {
      context.addIssue({
        code: 'custom',
        path: ['rateLimits', 'perHour'],
        message: 'cannot exceed rateLimits.perDay',
      });
    }
    if (config.workingHours.start >= config.workingHours.end) {
      context.addIssue({ code: 'custom', path: ['workingHours', 'end'], message: 'must be after workingHours.start' });
    }
    config.autoReply.freeTextAutoSend.forEach((entry, index) => {
      if (!config.autoSendTypes.includes(entry.type)) {
        context.addIssue({
          code: 'custom',
          path: ['autoReply', 'freeTextAutoSend', index, 'type'],
          message: `"${entry.type}" is not in autoSendTypes; only an auto-send type can be opted in to free text`,
        });
      }
    });
    for (const type of config.autoSendTypes) {
      if (config.alwaysApprovalTypes.includes(type)) {
        context.addIssue({
          code: 'custom',
          path: ['autoSendTypes'],
          message: `"${type}" is also in alwaysApprovalTypes; a type cannot be both`,
        });
      }
    }
  });

export {
  FREE_TEXT_AUTO_SEND_RISK,
  REPLY_LANGUAGES,
  TEMPLATE_ID_RULE,
  TEMPLATE_SLOTS,
  TEMPLATE_TYPES,
  templatePlaceholders,
  type AutoReplyConfig,
  type ReplyLanguage,
  type TemplateSlot,
  type TemplateType,
} from './auto-reply-config.ts';

export type ClientConfigInput = z.input<typeof clientConfigSchema>;
export type ClientConfig = z.output<typeof clientConfigSchema>;

export type ConfigParseResult = { ok: true; config: ClientConfig } | { ok: false; issues: string[] };

/** Validates untrusted config data; every problem is reported at once, each naming its field. */
export function parseClientConfig(data: unknown): ConfigParseResult {
  // A config is validated a few times per process at most: compiling zod's fast path would cost more than it saves.
  const result = clientConfigSchema.safeParse(data, { jitless: true });
  if (result.success) return { ok: true, config: Object.freeze(result.data) };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  };
}

/** Validated config from untrusted data, or one FleetError listing every problem. */
export function clientConfigFromData(data: unknown, source: string): ClientConfig {
  const result = parseClientConfig(data ?? {});
  if (!result.ok) throw new FleetError('invalid_input', `${source} is invalid:\n  ${result.issues.join('\n  ')}`);
  return result.config;
}
