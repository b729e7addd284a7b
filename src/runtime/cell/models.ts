/**
 * The language model a run thinks with, made inside the org's cell from the agent's choice and
 * the org's own key (opened here, at the moment of use). Provider packages load lazily, so an
 * idle cell stays small. There is no default: a provider Paddock does not know is an error,
 * never a fallback to a hosted gateway.
 */
import type { LanguageModel } from 'ai';
import { demoModel } from './demo-model.ts';
import { RunFailure } from './errors.ts';

export interface ModelChoice {
  provider: string;
  model: string;
}

/** The org's key for the provider, opened, and the endpoint that travels with it. */
export interface ModelKey {
  value: string;
  baseUrl: string | null;
}

export const PROVIDERS = ['openai', 'anthropic', 'google', 'openai-compatible', 'demo'] as const;

// The AI SDK resolves a bare model id through a global default provider (a hosted gateway):
// a run never passes one, and the default is cleared so nothing can fall back to it.
(globalThis as { AI_SDK_DEFAULT_PROVIDER?: unknown }).AI_SDK_DEFAULT_PROVIDER = undefined;

export async function languageModel(
  choice: ModelChoice,
  key: ModelKey | null,
  fetch: typeof globalThis.fetch,
): Promise<LanguageModel> {
  if (choice.provider === 'demo') return demoModel(choice.model);
  if (!key) {
    throw new RunFailure(
      'model_key_missing',
      `No ${choice.provider} model key is available to this agent: add a secret of kind model_key for ${choice.provider}.`,
    );
  }
  const baseURL = key.baseUrl ?? undefined;
  switch (choice.provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI({ apiKey: key.value, baseURL, fetch })(choice.model);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic({ apiKey: key.value, baseURL, fetch })(choice.model);
    }
    case 'google': {
      const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
      return createGoogleGenerativeAI({ apiKey: key.value, baseURL, fetch })(choice.model);
    }
    case 'openai-compatible': {
      if (!baseURL) {
        throw new RunFailure('model_endpoint_missing', 'An openai-compatible key needs its baseUrl.');
      }
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({ name: 'openai-compatible', apiKey: key.value, baseURL, fetch })(
        choice.model,
      );
    }
    default:
      throw new RunFailure('unknown_provider', `Paddock has no model provider "${choice.provider}".`);
  }
}
