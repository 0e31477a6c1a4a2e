import Anthropic from '@anthropic-ai/sdk';
import type * as z from 'zod';
import type { Logger } from '@agent-fleet/kernel/logger';
import {
  ModelOutputError,
  classificationSchema,
  draftReplySchema,
  type Classification,
  type DraftContext,
  type DraftReply,
  type EmailForModel,
  type LlmCallOptions,
  type LlmClient,
  type LlmResult,
  type TokenUsage,
} from '../../ports/llm-client.ts';
import { translateAnthropicError } from './anthropic-errors.ts';
import { warnIfDeprecated } from './model-deprecation.ts';
import { CLASSIFY_TOOL, DRAFT_TOOL, classifySystem, classifyUserMessage, draftSystem, draftUserMessage } from './prompts.ts';
import { sdkLogger } from './sdk-logger.ts';
import { toolAnswer } from './tool-answer.ts';
import { newUntrustedFence } from './untrusted-text.ts';

export interface AnthropicLlmClientConfig {
  /** API key, read from the client's secrets. */
  apiKey: string;
  /** Model id, e.g. claude-sonnet-4-6. */
  model: string;
  /** API base URL. Default: https://api.anthropic.com. */
  baseURL?: string;
  /** Output token cap per call. Default 1024. */
  maxTokens?: number;
  /**
   * SDK retries of transient failures. Default 0: the mail loop retries model calls itself (backoff with
   * jitter, Retry-After, a bound on attempts); retries here would multiply with those. A call with a
   * ceiling gate is never retried here: the SDK would resend it without the gate being told.
   */
  maxRetries?: number;
  /** Per-request timeout, ms. Default 60 000. */
  timeoutMs?: number;
  logger: Logger;
}

/** How long one validation issue of a model answer may be, characters. */
const ISSUE_LIMIT = 200;
/**
 * Tokens the API adds to a request beyond its own text: role and message framing, and the system prompt
 * it writes for tool use (a few hundred tokens for a forced tool).
 */
const REQUEST_OVERHEAD_TOKENS = 1_000;

/**
 * The most input tokens a request can count: its text as UTF-8 bytes (a byte-level tokenizer never makes
 * more tokens than bytes) plus the API's own framing. Pure.
 */
export function inputTokenCeiling(system: string, user: string, tool: object): number {
  return Buffer.byteLength(system) + Buffer.byteLength(user) + Buffer.byteLength(JSON.stringify(tool)) + REQUEST_OVERHEAD_TOKENS;
}

interface Tool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

/** LlmClient over the Anthropic Messages API, structured output through a forced tool call. */
export class AnthropicLlmClient implements LlmClient {
  readonly #client: Anthropic;
  readonly #config: AnthropicLlmClientConfig;
  readonly #logger: Logger;

  constructor(config: AnthropicLlmClientConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ adapter: 'anthropic' });
    this.#client = new Anthropic({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? 'https://api.anthropic.com',
      maxRetries: config.maxRetries ?? 0,
      timeout: config.timeoutMs ?? 60_000,
      logger: sdkLogger(this.#logger.child({ source: 'anthropic-sdk' })),
      logLevel: 'warn',
    });
  }

  // Each call fences the email with tags of its own random id (untrusted-text.ts).
  classify(email: EmailForModel, options: LlmCallOptions = {}): Promise<LlmResult<Classification>> {
    const fence = newUntrustedFence();
    return this.#structured('classify', classifySystem(fence), classifyUserMessage(email, fence), CLASSIFY_TOOL, classificationSchema, options);
  }

  draftReply(email: EmailForModel, styleNotes: string, context: DraftContext, options: LlmCallOptions = {}): Promise<LlmResult<DraftReply>> {
    const fence = newUntrustedFence();
    return this.#structured('draft', draftSystem(styleNotes, context, fence), draftUserMessage(email, context, fence), DRAFT_TOOL, draftReplySchema, options);
  }

  async #structured<T>(operation: string, system: string, user: string, tool: Tool, schema: z.ZodType<T>, options: LlmCallOptions): Promise<LlmResult<T>> {
    this.#logger.debug('anthropic request', { op: operation });
    // The API refuses a body with an unpaired surrogate (400), which an email or a CRM record can hold:
    // every try of such a message would fail the same way. U+FFFD stands in for it.
    const systemText = system.toWellFormed();
    const userText = user.toWellFormed();
    const maxTokens = this.#config.maxTokens ?? 1024;
    const { gate } = options;
    // The caller's budget may refuse the request: then nothing is sent.
    gate?.beforeRequest({ model: this.#config.model, inputTokens: inputTokenCeiling(systemText, userText, tool), outputTokens: maxTokens });
    warnIfDeprecated(this.#logger, this.#config.model);
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.#config.model,
      max_tokens: maxTokens,
      system: systemText,
      messages: [{ role: 'user', content: userText }],
      tools: [tool as Anthropic.Tool],
      // Without this a forced tool may still be called several times in one answer.
      tool_choice: { type: 'tool', name: tool.name, disable_parallel_tool_use: true },
    };
    let message: Anthropic.Message;
    try {
      // Posted as messages.create would, without its console.warn of a deprecated model on every request
      // (model-deprecation.ts logs it once instead). One HTTP request per gate report: no SDK retry when gated.
      message = await this.#client.post<Anthropic.Message>('/v1/messages', { body, ...(gate === undefined ? {} : { maxRetries: 0 }) });
    } catch (error) {
      throw translateAnthropicError(error, operation);
    }
    const usage: TokenUsage = {
      model: message.model,
      inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens,
    };
    const answer = toolAnswer(message, tool.name);
    if (!answer.ok) throw new ModelOutputError(`model ${operation} answer ${answer.problem}`, usage, answer.issues);
    const parsed = schema.safeParse(answer.input);
    if (!parsed.success) {
      // Issues name the model's own keys, which may be any text it wrote: each is bounded.
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`.slice(0, ISSUE_LIMIT));
      throw new ModelOutputError(`model ${operation} output failed validation`, usage, issues);
    }
    return { value: parsed.data, usage };
  }
}
