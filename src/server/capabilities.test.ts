import type { ClientCapabilities } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { assertClientCan } from './capabilities.js';

type Args = Parameters<typeof assertClientCan>;

/** The message of the capability_missing error, or undefined when the call is allowed. */
function missing(...args: Args): string | undefined {
  try {
    assertClientCan(...args);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('capability_missing');
    return (error as GatewayError).message;
  }
}

const caps = (c: Record<string, unknown>) => c as ClientCapabilities;

describe('assertClientCan', () => {
  it('sampling needs the sampling capability', () => {
    expect(missing(caps({ sampling: {} }), 'sampling/createMessage', { messages: [] })).toBeUndefined();
    expect(missing(caps({}), 'sampling/createMessage', { messages: [] })).toBe(
      'the calling client does not support sampling',
    );
    expect(missing(undefined, 'sampling/createMessage', undefined)).toBe(
      'the calling client does not support sampling',
    );
  });

  it('sampling with tools needs sampling.tools', () => {
    const params = { messages: [], tools: [{ name: 't', inputSchema: { type: 'object' } }] };
    expect(missing(caps({ sampling: {} }), 'sampling/createMessage', params)).toBe(
      'the calling client does not support sampling with tools',
    );
    expect(missing(caps({ sampling: { tools: {} } }), 'sampling/createMessage', params)).toBeUndefined();
  });

  it('form elicitation needs elicitation, and a bare {} counts as form', () => {
    const form = { message: 'Name?', requestedSchema: { type: 'object', properties: {} } };
    expect(missing(caps({ elicitation: {} }), 'elicitation/create', form)).toBeUndefined();
    expect(
      missing(caps({ elicitation: { form: {} } }), 'elicitation/create', { ...form, mode: 'form' }),
    ).toBeUndefined();
    expect(missing(caps({}), 'elicitation/create', form)).toBe('the calling client does not support elicitation');
    expect(missing(caps({ elicitation: { url: {} } }), 'elicitation/create', form)).toBe(
      'the calling client does not support form elicitation',
    );
  });

  it('URL elicitation needs elicitation.url', () => {
    const url = { mode: 'url', message: 'Sign in', url: 'https://example.com/auth', elicitationId: 'e1' };
    expect(missing(caps({ elicitation: { url: {} } }), 'elicitation/create', url)).toBeUndefined();
    expect(missing(caps({ elicitation: { form: {}, url: {} } }), 'elicitation/create', url)).toBeUndefined();
    expect(missing(caps({ elicitation: {} }), 'elicitation/create', url)).toBe(
      'the calling client does not support URL elicitation',
    );
    expect(missing(caps({ elicitation: { form: {} } }), 'elicitation/create', url)).toBe(
      'the calling client does not support URL elicitation',
    );
    expect(missing(caps({}), 'elicitation/create', url)).toBe('the calling client does not support elicitation');
  });

  it('roots/list needs roots', () => {
    expect(missing(caps({ roots: {} }), 'roots/list', undefined)).toBeUndefined();
    expect(missing(caps({ roots: { listChanged: true } }), 'roots/list', undefined)).toBeUndefined();
    expect(missing(caps({ sampling: {}, elicitation: {} }), 'roots/list', undefined)).toBe(
      'the calling client does not support roots',
    );
  });

  it('is not retryable', () => {
    try {
      assertClientCan(undefined, 'roots/list', undefined);
    } catch (error) {
      expect((error as GatewayError).retryable).toBe(false);
      return;
    }
    throw new Error('expected assertClientCan to throw');
  });
});
