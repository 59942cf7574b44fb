import { silentLogger } from '../../src/observability/index.js';
import { createRouter, type Router, type RouterModelsConfig, type RouterOptions } from '../../src/routing/index.js';
import type { FakeProviders } from '../fixtures/fake-providers/index.js';

/** Provider names used by the routing tests: `oa` speaks OpenAI, `an` Anthropic, `ge` Gemini. */
export function providers(fake: FakeProviders): RouterModelsConfig['providers'] {
  return {
    oa: { type: 'openai', baseUrl: fake.urls.openai, apiKey: 'sk-test-openai', headers: {} },
    an: { type: 'anthropic', baseUrl: fake.urls.anthropic, apiKey: 'sk-ant-test', headers: {} },
    ge: { type: 'gemini', baseUrl: fake.urls.gemini, apiKey: 'AIza-test', headers: {} },
  };
}

export function models(
  fake: FakeProviders,
  routes: RouterModelsConfig['routes'],
  extra: Partial<Pick<RouterModelsConfig, 'prices' | 'targets'>> = {},
): RouterModelsConfig {
  return { providers: providers(fake), prices: extra.prices ?? {}, routes, targets: extra.targets };
}

/** A clock the test moves; `sleep` records each wait and moves the clock instead of waiting. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

export function router(config: RouterModelsConfig, options: Partial<RouterOptions> = {}): Router {
  return createRouter(config, { log: silentLogger, random: () => 0.5, ...options });
}

export const ASK = {
  messages: [{ role: 'user' as const, content: { type: 'text' as const, text: 'Say hi' } }],
  maxTokens: 100,
};

/** Runs `promise`, expecting it to reject, and returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}
