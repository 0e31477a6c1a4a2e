import Anthropic, { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import {
  ModelOutputError,
  classificationSchema,
  draftReplySchema,
  type Classification,
  type DraftContext,
  type DraftReply,
  type EmailForModel,
  type LlmClient,
  type LlmResult,
  type TokenUsage,
} from '../../ports/llm-client.ts';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { CLASSIFY_TOOL, DRAFT_TOOL, classifySystem, classifyUserMessage, draftSystem, draftUserMessage } from './prompts.ts';
import { newUntrustedFence } from './untrusted-text.ts';

export interface AnthropicLlmClientConfig {
  /** API key, read from the client's secrets. */
  apiKey: string;
  /** Model id, e.g. claude-sonnet-4-5. */
  model: string;
  /** API base URL. Default: https://api.anthropic.com. */
  baseURL?: string;
  /** Output token cap per call. Default 1024. */
  maxTokens?: number;
  /** SDK retries of transient failures (safe: a model call has no side effect). Default 2. */
  maxRetries?: number;
  /** Per-request timeout, ms. Default 60 000. */
  timeoutMs?: number;
  logger: Logger;
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
      maxRetries: config.maxRetries ?? 2,
      timeout: config.timeoutMs ?? 60_000,
    });
  }

  // Each call fences the email with tags of its own random id (untrusted-text.ts).
  classify(email: EmailForModel): Promise<LlmResult<Classification>> {
    const fence = newUntrustedFence();
    return this.#structured('classify', classifySystem(fence), classifyUserMessage(email, fence), CLASSIFY_TOOL, classificationSchema);
  }

  draftReply(email: EmailForModel, styleNotes: string, context: DraftContext): Promise<LlmResult<DraftReply>> {
    const fence = newUntrustedFence();
    return this.#structured('draft', draftSystem(styleNotes, context, fence), draftUserMessage(email, context, fence), DRAFT_TOOL, draftReplySchema);
  }

  async #structured<T>(operation: string, system: string, user: string, tool: Tool, schema: z.ZodType<T>): Promise<LlmResult<T>> {
    this.#logger.debug('anthropic request', { op: operation });
    let message: Anthropic.Message;
    try {
      message = await this.#client.messages.create({
        model: this.#config.model,
        max_tokens: this.#config.maxTokens ?? 1024,
        system,
        messages: [{ role: 'user', content: user }],
        tools: [tool as Anthropic.Tool],
        tool_choice: { type: 'tool', name: tool.name },
      });
    } catch (error) {
      throw translateAnthropicError(error, operation);
    }
    const usage: TokenUsage = {
      model: message.model,
      inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens,
    };
    if (message.stop_reason === 'max_tokens') {
      throw new ModelOutputError(`model ${operation} output was cut off at max_tokens`, usage, ['stop_reason: max_tokens']);
    }
    const call = message.content.find((block) => block.type === 'tool_use' && block.name === tool.name);
    if (call === undefined || call.type !== 'tool_use') {
      throw new ModelOutputError(`model ${operation} answer did not call ${tool.name}`, usage, [`stop_reason: ${String(message.stop_reason)}`]);
    }
    const parsed = schema.safeParse(call.input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new ModelOutputError(`model ${operation} output failed validation`, usage, issues);
    }
    return { value: parsed.data, usage };
  }
}

function translateAnthropicError(error: unknown, operation: string): FleetError {
  if (error instanceof APIConnectionError) {
    return new FleetError('unavailable', `anthropic ${operation}: no answer from the API`, { retryable: true, cause: error });
  }
  if (!(error instanceof APIError) || error.status === undefined) {
    return new FleetError('internal', `anthropic ${operation}: unexpected failure`, { cause: error });
  }
  const status = error.status;
  if (status === 401) return new ProviderAuthError('invalid_token', `anthropic ${operation}: API key rejected`, { cause: error });
  if (status === 403) return new FleetError('forbidden', `anthropic ${operation}: permission denied`, { cause: error });
  if (status === 429 || status === 529 || status >= 500) {
    const retryAfter = parseRetryAfter(error.headers?.get('retry-after') ?? null);
    return new ProviderThrottledError(status, retryAfter, `anthropic ${operation}: ${status === 429 ? 'rate limited' : `overloaded (${status})`}`, { cause: error });
  }
  return new FleetError('invalid_input', `anthropic ${operation}: request rejected (${status})`, { cause: error });
}
