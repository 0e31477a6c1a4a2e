import type { TokenUsage } from '../../ports/llm-client.ts';

/**
 * USD per million tokens (input, output), by model id prefix, most specific first: the list prices of
 * Anthropic's pricing page when this was written. Opus 4.5 and later costs a third of Opus 4 and 4.1, or less.
 */
const PRICES: { prefix: string; input: number; output: number }[] = [
  { prefix: 'claude-opus-5-5', input: 4, output: 20 },
  { prefix: 'claude-opus-5', input: 5, output: 25 },
  { prefix: 'claude-opus-4-5', input: 5, output: 25 },
  { prefix: 'claude-opus-4-6', input: 5, output: 25 },
  { prefix: 'claude-opus-4-7', input: 5, output: 25 },
  { prefix: 'claude-opus-4-8', input: 5, output: 25 },
  { prefix: 'claude-opus', input: 15, output: 75 },
  { prefix: 'claude-sonnet-5', input: 2, output: 10 },
  { prefix: 'claude-sonnet', input: 3, output: 15 },
  // Haiku 5.5 has a cheaper rate for short prompts; its long-prompt rate is used, so a cost is never understated.
  { prefix: 'claude-haiku-5', input: 0.5, output: 2.5 },
  { prefix: 'claude-haiku-4', input: 1, output: 5 },
  { prefix: 'claude-3-5-haiku', input: 0.8, output: 4 },
  { prefix: 'claude-3-haiku', input: 0.25, output: 1.25 },
];
// An unknown model (Fable and Mythos included: their newest versions may cost more than the listed ones)
// is priced like the most expensive family, so a cost report never understates.
const FALLBACK = { input: 15, output: 75 };

/** Cost of one model call in USD (rounded to a millionth of a dollar). */
export function llmCostUsd(usage: TokenUsage): number {
  const price = PRICES.find((candidate) => usage.model.startsWith(candidate.prefix)) ?? FALLBACK;
  const cost = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  return Math.round(cost * 1_000_000) / 1_000_000;
}
