import type { ProtocolError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Caller } from './caller.js';
import { answerServerRequest } from './server-requests.js';

// answerServerRequest reads only `sampling` from the server's config.
const config = { sampling: 'router' } as ServerConfig;
const caller = (sessionKey: string, agent: string): Caller => ({
  sessionKey,
  agent,
  ask: () => Promise.reject(new Error('the router answers, not the client')),
});
const ASK = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 };

async function ask(inflight: Caller[], sample: (agent: string) => Promise<unknown>) {
  const agents: string[] = [];
  try {
    const result = await answerServerRequest(
      {
        name: 'up',
        config,
        inflight,
        owner: undefined,
        sample: async (_params, _signal, agent) => ({ ...((await sample(agent)) as object) }),
      },
      'sampling/createMessage',
      ASK,
      new AbortController().signal,
      (agent) => agents.push(agent),
    );
    return { result, agents };
  } catch (error) {
    return { error: error as ProtocolError, agents };
  }
}

describe('sampling answered by the router', () => {
  it('runs for the agent whose call asked', async () => {
    const seen: string[] = [];
    const { result, agents } = await ask([caller('s1', 'alice')], async (agent) => {
      seen.push(agent);
      return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
    });
    expect(result).toMatchObject({ model: 'm' });
    expect(seen).toEqual(['alice']);
    expect(agents).toEqual(['alice']);
  });

  it('is refused when no agent can be charged: outside any call, or calls of several sessions in flight', async () => {
    const never = () => Promise.reject(new Error('must not be called'));
    const outside = await ask([], never);
    expect(outside.error?.message).toMatch(/arrived outside any call, so no agent's budget and routes can apply/);
    expect(outside.error?.data).toEqual({ reason: 'denied' });
    const shared = await ask([caller('s1', 'alice'), caller('s2', 'bob')], never);
    expect(shared.error?.message).toMatch(/cannot be charged to one agent.*"isolation": "session"/);
  });

  it('keeps a budget or route refusal a refusal (audited as quota or denied), not an internal error', async () => {
    const { error } = await ask([caller('s1', 'alice')], () =>
      Promise.reject(new GatewayError('quota', 'model budget "1/1d" for agent "alice" is spent')),
    );
    expect(error?.message).toMatch(/model budget/);
    expect(error?.data).toEqual({ reason: 'quota' });
  });
});
