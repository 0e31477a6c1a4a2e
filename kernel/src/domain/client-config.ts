import * as z from 'zod';
import { autoReplyConfigSchema, safeText, shownInert } from './auto-reply-config.ts';
import { clientIdIssue } from './client-id.ts';
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

/**
 * A zod array check: no item twice, as the items compare once parsed (addresses lower-cased). A repeat
 * changes nothing the agent does, but says the list is not what its writer thinks it is (an admin written
 * twice in two cases, a type meant to be another). One pass: the check also runs on a list too long for
 * its field, and comparing every item with every other took minutes on a 1 MiB list.
 */
function noRepeats(what: string) {
  return (list: readonly (string | number)[], context: z.core.$RefinementCtx<(string | number)[]>): void => {
    const seen = new Set<string | number>();
    const repeated = new Set<string | number>();
    for (const item of list) (seen.has(item) ? repeated : seen).add(item);
    if (repeated.size > 0) context.addIssue({ code: 'custom', message: `must not repeat ${what} (repeated: ${[...repeated].join(', ')})` });
  };
}

const notBlank = (text: string): boolean => text.trim() !== '';

/** The longest `approvalTimeoutHours` a config may set: 30 days. */
export const MAX_APPROVAL_TIMEOUT_HOURS = 24 * 30;

/** The default daily model budget, USD: raising the budget above it is a guard rail. */
export const MODEL_DAILY_BUDGET_USD = 20;

/**
 * Models Anthropic has announced it retires, by exact id, with the day (UTC) their API stops answering:
 * the installed SDK's deprecation table, kept equal to it by a unit test. A model absent here (one released
 * after this build, or a private one) is allowed: only a known retirement is acted on, never an unknown id.
 */
const MODEL_RETIREMENTS: ReadonlyMap<string, string> = new Map([
  ['claude-mythos-preview', '2026-06-30'],
  ['claude-sonnet-4-5', '2026-11-30'],
  ['claude-sonnet-4-5-20250929', '2026-11-30'],
]);

/** The start (00:00 UTC) of the day `model` is retired, or null when no retirement is known. */
export function modelRetirement(model: string): Date | null {
  const day = MODEL_RETIREMENTS.get(model);
  return day === undefined ? null : new Date(`${day}T00:00:00Z`);
}

/** Every model with a known retirement, and its day (for the table's own test). */
export function knownModelRetirements(): ReadonlyMap<string, string> {
  return MODEL_RETIREMENTS;
}

/**
 * A list of email types, each at most once. Its length is bounded like every list's: zod checks a list's
 * length before its items, and a list without a bound gave one problem per item, so a 1 MiB list of bad
 * items overflowed the stack ("Maximum call stack size exceeded") instead of being refused.
 */
const emailTypeList = z.array(z.enum(emailTypes)).max(emailTypes.length).superRefine(noRepeats('a type'));

/**
 * Checked before lower-casing, which would turn a non-ASCII letter into an ASCII one (the Kelvin sign
 * U+212A into "k") and so pass an address as one it is not.
 */
const isAscii = (text: string): boolean => /^[\u0000-\u007f]*$/.test(text);

const emailAddress = z
  .string()
  .trim()
  .refine(isAscii, { message: 'must be an email address', abort: true })
  .toLowerCase()
  .refine((address) => normaliseAddress(address) !== undefined, 'must be an email address');

/**
 * A domain as it can follow "@" in an address (email-address.ts): at least two labels of 1-63 letters,
 * digits and "-", none starting or ending with "-". A block-list domain spelt otherwise (`-x.com`, a
 * 64-character label) would never match any recipient, so the entry would block nothing.
 */
const isMailDomain = (name: string): boolean => normaliseAddress(`postmaster@${name}`) !== undefined;

const BLOCK_LIST_ENTRY_RULE =
  'must be an address (user@example.com), a domain (example.com) or a subdomain pattern (*.example.com); each part of a domain is 1-63 letters, digits or "-", not starting or ending with "-"';

/**
 * `user@example.com`, `example.com` or `*.example.com`. `*@example.com` is read as the domain it is meant
 * to block: kept as an address, it would block only a mailbox literally named `*` and let everyone there
 * through.
 */
const blockListEntry = z
  .string()
  .trim()
  .refine(isAscii, { message: BLOCK_LIST_ENTRY_RULE, abort: true })
  .toLowerCase()
  .overwrite((entry) => (entry.startsWith('*@') ? entry.slice(2) : entry))
  .refine(
    (entry) => normaliseAddress(entry) !== undefined || isMailDomain(entry.startsWith('*.') ? entry.slice(2) : entry),
    BLOCK_LIST_ENTRY_RULE,
  );

/**
 * Earliest and latest onboarding start accepted. A start before 2020 (before this software) is a typo such
 * as 0026 or 2006 for 2026, and would end draft-review-send before the agent sent anything; one from 2100
 * on (2620 for 2026) would hold it for centuries.
 */
const ONBOARDING_START_RANGE = { from: Date.parse('2020-01-01T00:00:00Z'), until: Date.parse('2100-01-01T00:00:00Z') } as const;

/**
 * Where a provider pushes notifications: https, or plain http on loopback only (tests). No `user:pass@`:
 * a credential here would sit in the config file, its history and every copy the provider keeps; the
 * secret notifications present is generated by the agent and kept in Vault.
 */
const pushUrl = z
  .url()
  .max(2000)
  .refine((url) => /^https:\/\//i.test(url) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//i.test(url), 'must be an https:// URL')
  .refine(
    (url) => !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''),
    'must not contain a user name or password (user:pass@): credentials belong in Vault, not in the config',
  );

export const clientConfigSchema = z
  .object({
    /** Client id (DNS-1123 label). Required. */
    client: z.string().superRefine((raw, context) => {
      const issue = clientIdIssue(raw);
      if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
    }),
    /** Display name used in summaries. Default: the client id. */
    displayName: z.string().min(1).max(200).refine(notBlank, 'must not be blank').superRefine(safeText({ multiLine: false })).optional(),
    /** Mail provider. Default: gmail. */
    provider: z.enum(['gmail', 'outlook']).default('gmail'),
    /** The mailbox the agent works in. Optional until the provider is connected. */
    mailbox: emailAddress.optional(),
    /** Client admins: who approve drafts, pull the kill switch and receive summaries and alerts. */
    admins: z.array(emailAddress).max(50).superRefine(noRepeats('an admin')).default([]),
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
        days: z
          .array(z.number().int().min(1).max(7))
          .min(1)
          .max(7)
          .superRefine(noRepeats('a day'))
          .default([1, 2, 3, 4, 5]),
      })
      .strict()
      .default({ start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5] }),
    /** Capabilities granted to the agent. Default: read, draft and label mail, read the calendar. */
    permissions: z
      // zod drops an own "__proto__" key of a record without a word (`permissions: { __proto__: true }`
      // took every default permission away and said nothing); it is an unknown key like any other.
      .preprocess((value: Partial<Record<Capability, boolean>>, context) => {
        if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
          context.addIssue({ code: 'custom', message: 'Unrecognized key: "__proto__"' });
        }
        return value;
      }, z.partialRecord(z.enum(capabilities), z.boolean()))
      .default({ 'mail.read': true, 'mail.draft': true, 'mail.label': true, 'calendar.read': true }),
    /** Draft-review-send onboarding window. */
    onboarding: z
      .object({
        /** When onboarding started (ISO 8601). Default: set at provisioning. */
        startedAt: z.iso
          .datetime({ offset: true })
          .refine(
            (at) => Date.parse(at) >= ONBOARDING_START_RANGE.from && Date.parse(at) < ONBOARDING_START_RANGE.until,
            'must be a date from 2020 to 2099, e.g. "2026-03-01T00:00:00Z" (a typo in the year would end or prolong draft-review-send)',
          )
          .optional(),
        /** Length of the window in days. Default 28 (weeks 1–4). */
        days: z.number().int().min(0).max(365).default(28),
      })
      .strict()
      .default({ days: 28 }),
    /** Email types that may be sent without approval after onboarding, to known contacts only. */
    autoSendTypes: emailTypeList
      .default(['acknowledgement', 'scheduling_confirmation', 'follow_up']),
    /**
     * Auto-sent replies: templates per auto-send type (built-in defaults in the client's language), the
     * signature, and the explicit free-text opt-in per type (none by default). See auto-reply-config.ts.
     */
    autoReply: autoReplyConfigSchema,
    /** Email types that always need approval, whatever else says. */
    alwaysApprovalTypes: emailTypeList
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
    approvalTimeoutHours: z.number().min(1).max(MAX_APPROVAL_TIMEOUT_HOURS).default(72),
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
    styleNotes: z.string().max(4000).superRefine(safeText({ multiLine: true })).default(''),
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
        archiveTypes: emailTypeList.default([]),
        /** Email types marked read once labelled (a flag change, gated as `mail.label`). Default none. */
        markReadTypes: emailTypeList.default([]),
      })
      .strict()
      .default({ labelPrefix: 'AgentFleet', archiveTypes: [], markReadTypes: [] }),
    /** Model used for triage and drafting. */
    model: z.string().min(1).max(100).refine(notBlank, 'must not be blank').superRefine(safeText({ multiLine: false })).default('claude-sonnet-4-6'),
    /**
     * Most the model may cost in one day of the client's time zone, in US dollars at list prices. Reached,
     * model work waits (nothing is lost) until the next local day and the admins are told once. Bounds what
     * a flood of inbound mail can spend. 0 turns model work off. Default 20 (several hundred messages).
     */
    modelDailyBudgetUsd: z.number().min(0).max(10_000).default(MODEL_DAILY_BUDGET_USD),
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
         * Gmail: the OIDC token the Pub/Sub push subscription is configured with (its
         * `pushConfig.oidcToken`). Set, every push must also carry Google's signed token naming this
         * service account and audience; unset, the push URL's token alone admits a push (the agent warns).
         */
        gmailPushOidc: z.object({ serviceAccount: emailAddress, audience: z.string().min(1).max(2000).superRefine(safeText({ multiLine: false })) }).strict().optional(),
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
    if (config.push?.gmailTopic !== undefined && config.mailbox === undefined) {
      context.addIssue({ code: 'custom', path: ['mailbox'], message: 'is needed with push.gmailTopic: a push about any other mailbox is ignored' });
    }
    if (config.push?.gmailPushOidc !== undefined && config.push.gmailTopic === undefined) {
      context.addIssue({ code: 'custom', path: ['push', 'gmailPushOidc'], message: 'needs push.gmailTopic (it only applies to Gmail push)' });
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
  safeText,
  unsafeTextIssue,
  type AutoReplyConfig,
  type ReplyLanguage,
  type TemplateSlot,
  type TemplateType,
} from './auto-reply-config.ts';

export type ClientConfigInput = z.input<typeof clientConfigSchema>;
export type ClientConfig = z.output<typeof clientConfigSchema>;

export type ConfigParseResult = { ok: true; config: ClientConfig } | { ok: false; issues: string[] };

/**
 * At most this many problems are listed, and at most this many unknown keys of one map: a document of
 * 10 000 bad block-list entries or 30 000 unknown keys made an error of megabytes that reached the CLI,
 * the API and the logs whole. The first ones name the fields; a count says how many more there are.
 */
const MAX_ISSUES_LISTED = 25;
const MAX_KEYS_LISTED = 10;
/** Characters of one problem's line, beyond which it is cut (its field path comes first). */
const MAX_ISSUE_CHARS = 500;

function issueLine(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.') || '(root)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    // Quoted as zod quotes them, the key as written (up to 60 characters of it).
    const shown = issue.keys.slice(0, MAX_KEYS_LISTED).map((key) => `"${key.length > 60 ? `${key.slice(0, 60)}…` : key}"`);
    const more = issue.keys.length > MAX_KEYS_LISTED ? ` and ${issue.keys.length - MAX_KEYS_LISTED} more` : '';
    message = `Unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
  }
  // A key or value quoted in the message may hold a line feed (a fake problem line) or a terminal escape.
  const line = shownInert(`${field}: ${message}`);
  return line.length > MAX_ISSUE_CHARS ? `${line.slice(0, MAX_ISSUE_CHARS)}…` : line;
}

/** Validates untrusted config data; every problem is reported at once (up to 25 listed), each naming its field. */
export function parseClientConfig(data: unknown): ConfigParseResult {
  // A config is validated a few times per process at most: compiling zod's fast path would cost more than it saves.
  const result = clientConfigSchema.safeParse(data, { jitless: true });
  if (result.success) return { ok: true, config: Object.freeze(result.data) };
  const { issues } = result.error;
  const listed = issues.slice(0, MAX_ISSUES_LISTED).map(issueLine);
  if (issues.length > MAX_ISSUES_LISTED) listed.push(`… and ${issues.length - MAX_ISSUES_LISTED} more problems of the same kinds`);
  return { ok: false, issues: listed };
}

/** Validated config from untrusted data, or one FleetError listing every problem. */
export function clientConfigFromData(data: unknown, source: string): ClientConfig {
  const result = parseClientConfig(data ?? {});
  if (!result.ok) throw new FleetError('invalid_input', `${source} is invalid:\n  ${result.issues.join('\n  ')}`);
  return result.config;
}
