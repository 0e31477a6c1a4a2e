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

export class AnthropicEmulator {
  readonly apiKey: string;
  /** Every valid request body, in order. */
  readonly received: MessagesRequest[] = [];
  readonly tokens = { input: 0, output: 0 };
  readonly #http: HttpEmulator;
  readonly #queue: ScriptedReply[] = [];
  #script: Script | null = null;
  #account: AccountState = 'ok';

  /** `latencyMs`: how long each answer takes, like a real model call (default 0). */
  constructor(options: { apiKey?: string; latencyMs?: number } = {}) {
    this.apiKey = options.apiKey ?? 'sk-ant-emulator-key-0000';
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
    this.received.push(valid);
    if (this.#account !== 'ok') return apiError(400, 'invalid_request_error', ACCOUNT_REFUSALS[this.#account]);

    const reply = this.#queue.shift() ?? this.#script?.(valid);
    if (reply === undefined) return apiError(500, 'api_error', 'emulator: no scripted reply left');
    if ('error' in reply) {
      const headers: Record<string, string> = {};
      if (reply.error.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.error.retryAfterSeconds);
      return { ...apiError(reply.error.status, reply.error.type, reply.error.message, reply.error.errorCode), headers };
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
  return json(status, { type: 'error', error: { type, message, ...details }, request_id: `req_${randomId()}` });
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

function validate(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body: must be an object';
  const b = body as Record<string, unknown>;
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
    const ok =
      (typeof content === 'string' && content !== '') ||
      (Array.isArray(content) && content.length > 0 && content.every((c) => typeof (c as { type?: unknown })?.type === 'string'));
    if (!ok) return `messages.${index}.content: must be a non-empty string or list of content blocks`;
  }
  const system = b['system'];
  if (system !== undefined && typeof system !== 'string' && !Array.isArray(system)) return 'system: must be a string or list of text blocks';
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
      names.add(t.name);
    }
  }
  const choice = b['tool_choice'] as { type?: unknown; name?: unknown; disable_parallel_tool_use?: unknown } | undefined;
  if (choice !== undefined) {
    if (!['auto', 'any', 'tool', 'none'].includes(String(choice.type))) return 'tool_choice.type: invalid';
    const parallel = choice.disable_parallel_tool_use;
    if (parallel !== undefined && typeof parallel !== 'boolean') return 'tool_choice.disable_parallel_tool_use: Input should be a valid boolean';
    if (choice.type === 'tool' && (typeof choice.name !== 'string' || !names.has(choice.name))) {
      return 'tool_choice.name: must name one of the tools';
    }
  }
  return null;
}
