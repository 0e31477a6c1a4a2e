import { modelRetirement } from '@agent-fleet/kernel/client-config';
import { HttpEmulator, json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';

/**
 * The Anthropic Messages API (POST /v1/messages, non-streaming) on loopback. Validates the request the
 * way the API does (x-api-key, anthropic-version, model, max_tokens, alternating roles starting with the
 * user, tool definitions and tool_choice) and answers with scripted replies, counting tokens.
 */

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: string | { type: 'text'; text: string }[];
  messages: { role: 'user' | 'assistant'; content: string | { type: string; text?: string }[] }[];
  tools?: { name: string; description?: string; input_schema: { type: string } }[];
  tool_choice?: { type: string; name?: string; disable_parallel_tool_use?: boolean };
}

/** Why a scripted answer ended, as the API reports it (`tool_use` for a tool call unless scripted). */
export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export type ScriptedReply =
  | { toolInput: unknown; toolName?: string; stopReason?: StopReason }
  /** Several calls of the forced tool in one answer; with `disable_parallel_tool_use` the API makes only the first. */
  | { toolInputs: unknown[]; stopReason?: StopReason }
  | { text: string; stopReason?: StopReason }
  /** `errorCode`: the stable `error.details.error_code` the API adds to some refusals. */
  | { error: { status: number; type: string; message: string; retryAfterSeconds?: number; errorCode?: string } };

/**
 * The account behind the key, as the API refuses it before any model runs: `ok`; prepaid credit used up, or
 * the organisation's own monthly spend limit reached. The API answers both with 400 invalid_request_error
 * and these messages (no error_code), to every request until someone pays or raises the limit.
 */
export type AccountState = 'ok' | 'credit_exhausted' | 'usage_limit_reached';

const ACCOUNT_REFUSALS: Record<Exclude<AccountState, 'ok'>, string> = {
  credit_exhausted: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
  usage_limit_reached: 'You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.',
};

export type Script = (request: MessagesRequest) => ScriptedReply;

/** The system prompt of a request as one string. */
export function systemText(request: MessagesRequest): string {
  const system = request.system;
  if (system === undefined) return '';
  return typeof system === 'string' ? system : system.map((block) => block.text).join('\n');
}

/** The text of a request's first (user) message. */
export function userText(request: MessagesRequest): string {
  const first = request.messages[0]?.content;
  if (typeof first === 'string') return first;
  return (first ?? []).map((block) => block.text ?? '').join('\n');
}

const VERSION_RULE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The model ids the API serves, as the installed SDK's `Model` type lists them. The API answers any
 * other id with 404 not_found_error `model: <id>`, after checking the rest of the request.
 */
export const KNOWN_MODELS: readonly string[] = [
  'claude-fable-5-2', 'claude-mythos-5-2', 'claude-haiku-5-5', 'claude-sonnet-5-5', 'claude-fable-5-1', 'claude-opus-5-5',
  'claude-mythos-5-1', 'claude-sonnet-5', 'claude-fable-5', 'claude-mythos-5', 'claude-opus-5', 'claude-opus-4-8', 'claude-opus-4-7',
  'claude-mythos-preview', 'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'claude-opus-4-5',
  'claude-opus-4-5-20251101', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929',
];

/** A model past its retirement day (the SDK's deprecation table, as the kernel keeps it) is gone from the API. */
function isRetired(model: string, now: Date): boolean {
  const retirement = modelRetirement(model);
  return retirement !== null && retirement.getTime() <= now.getTime();
}

export class AnthropicEmulator {
  readonly apiKey: string;
  /** Every valid request body, in order. */
  readonly received: MessagesRequest[] = [];
  readonly tokens = { input: 0, output: 0 };
  readonly #http: HttpEmulator;
  readonly #queue: ScriptedReply[] = [];
  #script: Script | null = null;
  #account: AccountState = 'ok';

  readonly #models: ReadonlySet<string>;
  readonly #now: () => Date;

  /**
   * `latencyMs`: how long each answer takes, like a real model call (default 0). `models`: the ids this
   * key may use (default KNOWN_MODELS); any other is 404 not_found_error, as the API answers it, and so is
   * a model past its retirement day by `now` (default the real clock).
   */
  constructor(options: { apiKey?: string; latencyMs?: number; models?: readonly string[]; now?: () => Date } = {}) {
    this.apiKey = options.apiKey ?? 'sk-ant-emulator-key-0000';
    this.#models = new Set(options.models ?? KNOWN_MODELS);
    this.#now = options.now ?? (() => new Date());
    const latencyMs = options.latencyMs ?? 0;
    this.#http = new HttpEmulator(async (request) => {
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return this.#handle(request);
    });
  }

  get requests() {
    return this.#http.requests;
  }

  get url(): string {
    return this.#http.url;
  }

  start(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.#http.start(options);
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  /** Replies used once each, in order, before the script function. */
  enqueue(...replies: ScriptedReply[]): void {
    this.#queue.push(...replies);
  }

  /** Drops the replies still queued (a test that failed early may leave some for the next). */
  clearQueue(): void {
    this.#queue.length = 0;
  }

  /** Sets the account's state: anything but `ok` refuses every later request the way the API does. */
  setAccount(state: AccountState): void {
    this.#account = state;
  }

  /** Answers every request not served from the queue. */
  useScript(script: Script): void {
    this.#script = script;
  }

  #handle(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST' || request.url.pathname !== '/v1/messages') {
      return apiError(404, 'not_found_error', 'Not found');
    }
    // The API takes the key as x-api-key or, as this SDK version sends it, as a bearer token.
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (request.headers['x-api-key'] !== this.apiKey && bearer !== this.apiKey) {
      return apiError(401, 'authentication_error', 'invalid x-api-key');
    }
    const version = request.headers['anthropic-version'];
    if (typeof version !== 'string' || !VERSION_RULE.test(version)) {
      return apiError(400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return apiError(400, 'invalid_request_error', 'Request body is not valid JSON');
    }
    const unpaired = unpairedSurrogatePath(body, '');
    if (unpaired !== null) return apiError(400, 'invalid_request_error', `The request body is not valid JSON: no low surrogate in string (${unpaired})`);
    const problem = validate(body);
    if (problem !== null) return apiError(400, 'invalid_request_error', problem);
    const valid = body as MessagesRequest;
    if (!this.#models.has(valid.model) || isRetired(valid.model, this.#now())) return apiError(404, 'not_found_error', `model: ${valid.model}`);
    this.received.push(valid);
    if (this.#account !== 'ok') return apiError(400, 'invalid_request_error', ACCOUNT_REFUSALS[this.#account]);

    const reply = this.#queue.shift() ?? this.#script?.(valid);
    if (reply === undefined) return apiError(500, 'api_error', 'emulator: no scripted reply left');
    if ('error' in reply) {
      const refused = apiError(reply.error.status, reply.error.type, reply.error.message, reply.error.errorCode);
      if (reply.error.retryAfterSeconds !== undefined) refused.headers = { ...refused.headers, 'retry-after': String(reply.error.retryAfterSeconds) };
      return refused;
    }
    const inputTokens = countTokens(JSON.stringify([valid.system ?? '', valid.messages, valid.tools ?? []]));
    let content: unknown[];
    let stopReason: StopReason;
    if ('text' in reply) {
      content = [{ type: 'text', text: reply.text }];
      stopReason = reply.stopReason ?? 'end_turn';
    } else {
      const name: string = ('toolName' in reply ? reply.toolName : undefined) ?? valid.tool_choice?.name ?? valid.tools?.[0]?.name ?? 'tool';
      const inputs = 'toolInputs' in reply ? reply.toolInputs : [reply.toolInput];
      const made = valid.tool_choice?.disable_parallel_tool_use === true ? inputs.slice(0, 1) : inputs;
      content = made.map((input) => ({ type: 'tool_use', id: `toolu_${randomId()}`, name, input }));
      stopReason = reply.stopReason ?? 'tool_use';
    }
    const outputTokens = countTokens(JSON.stringify(content));
    this.tokens.input += inputTokens;
    this.tokens.output += outputTokens;
    return json(200, {
      id: `msg_${randomId()}`,
      type: 'message',
      role: 'assistant',
      model: valid.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    }, { 'request-id': `req_${randomId()}` });
  }
}

/** Roughly four characters a token, as good as needed to count and cost calls. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function apiError(status: number, type: string, message: string, errorCode?: string): EmulatorResponse {
  const details = errorCode === undefined ? {} : { details: { error_code: errorCode } };
  // The API names the request in a header and in the body, the same id in both.
  const requestId = `req_${randomId()}`;
  return json(status, { type: 'error', error: { type, message, ...details }, request_id: requestId }, { 'request-id': requestId });
}

/**
 * Where a string of the body holds a UTF-16 surrogate without its pair (JSON allows the escape, the API's
 * parser does not: 400), as a dotted path; null when none does.
 */
function unpairedSurrogatePath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : path || '(root)';
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const found = unpairedSurrogatePath(key, path) ?? unpairedSurrogatePath(child, path === '' ? key : `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** The top-level fields of a Messages request (the SDK's MessageCreateParams); the API refuses any other. */
const REQUEST_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'tools', 'tool_choice', 'stream', 'stop_sequences', 'metadata', 'thinking',
  'output_config', 'service_tier', 'speed', 'container', 'cache_control', 'diagnostics', 'inference_geo', 'user_profile_id', 'workspace_id',
]);

/** Why a content block is refused, or null: a known type, and a text block's text a non-empty string. */
function blockProblem(block: unknown, path: string, field: 'messages' | 'system'): string | null {
  const b = block as { type?: unknown; text?: unknown } | null;
  if (typeof b?.type !== 'string') return `${path}.type: Field required`;
  if (b.type !== 'text') return null;
  if (typeof b.text !== 'string') return `${path}.text: Input should be a valid string`;
  return b.text === '' ? `${field}: text content blocks must be non-empty` : null;
}

function validate(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body: must be an object';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((key) => !REQUEST_FIELDS.has(key));
  if (extra !== undefined) return `${extra}: Extra inputs are not permitted`;
  if (typeof b['model'] !== 'string' || b['model'] === '') return 'model: Field required';
  if (!Number.isInteger(b['max_tokens']) || (b['max_tokens'] as number) < 1) return 'max_tokens: must be a positive integer';
  if (b['stream'] === true) return 'stream: not supported by the emulator';
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  let expected = 'user';
  for (const [index, message] of messages.entries()) {
    const m = message as { role?: unknown; content?: unknown } | null;
    if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${index}.role: must be user or assistant`;
    if (m.role !== expected) return `messages: roles must alternate between "user" and "assistant", starting with "user"`;
    expected = expected === 'user' ? 'assistant' : 'user';
    const content = m.content;
    const ok = (typeof content === 'string' && content !== '') || (Array.isArray(content) && content.length > 0);
    if (!ok) return `messages.${index}.content: must be a non-empty string or list of content blocks`;
    if (Array.isArray(content)) {
      for (const [at, block] of content.entries()) {
        const problem = blockProblem(block, `messages.${index}.content.${at}`, 'messages');
        if (problem !== null) return problem;
      }
    }
  }
  const last = messages.at(-1) as { role: string; content: unknown };
  const lastText = typeof last.content === 'string' ? last.content : (last.content as { type: string; text?: string }[]).at(-1)?.text;
  if (last.role === 'assistant' && typeof lastText === 'string' && /\s$/.test(lastText)) {
    return 'messages: final assistant content cannot end with trailing whitespace';
  }
  const system = b['system'];
  if (system !== undefined && typeof system !== 'string') {
    if (!Array.isArray(system)) return 'system: Input should be a valid list';
    for (const [index, block] of system.entries()) {
      if ((block as { type?: unknown } | null)?.type !== 'text') return `system.${index}.type: Input should be 'text'`;
      const problem = blockProblem(block, `system.${index}`, 'system');
      if (problem !== null) return problem;
    }
  }
  const tools = b['tools'];
  const names = new Set<string>();
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return 'tools: must be a list';
    for (const [index, tool] of tools.entries()) {
      const t = tool as { name?: unknown; input_schema?: { type?: unknown } } | null;
      if (typeof t?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) return `tools.${index}.name: invalid`;
      if (t.input_schema?.type !== 'object') return `tools.${index}.input_schema.type: must be "object"`;
      if (['oneOf', 'anyOf', 'allOf'].some((key) => key in (t.input_schema as object))) {
        return `tools.${index}.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level`;
      }
      if (names.has(t.name)) return 'tools: Tool names must be unique.';
      names.add(t.name);
    }
  }
  const choice = b['tool_choice'] as { type?: unknown; name?: unknown; disable_parallel_tool_use?: unknown } | undefined;
  if (choice !== undefined) {
    if (!['auto', 'any', 'tool', 'none'].includes(String(choice.type))) return 'tool_choice.type: invalid';
    if ((choice.type === 'any' || choice.type === 'tool') && names.size === 0) return 'tool_choice: tool_choice may only be specified while providing tools';
    const parallel = choice.disable_parallel_tool_use;
    if (parallel !== undefined && typeof parallel !== 'boolean') return 'tool_choice.disable_parallel_tool_use: Input should be a valid boolean';
    if (choice.type === 'tool' && (typeof choice.name !== 'string' || !names.has(choice.name))) {
      return 'tool_choice.name: must name one of the tools';
    }
  }
  return null;
}
