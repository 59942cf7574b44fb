import { ProtocolError } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { checkedResult } from './fast-call.js';

describe('checkedResult (the fast path checks tools/call results as the SDK server does)', () => {
  it('passes a plain result through as it is', () => {
    const result = {
      content: [
        { type: 'text', text: 'a' },
        { type: 'image', data: 'AAAA', mimeType: 'image/png' },
        { type: 'resource_link', uri: 'switchboard://files/x', name: 'x' },
        { type: 'resource', resource: { uri: 'switchboard://files/y', text: 'y' } },
      ],
      isError: false,
      structuredContent: { n: 1 },
    };
    expect(checkedResult(result)).toBe(result);
  });

  it('gives a result without content an empty one', () => {
    expect(checkedResult({ structuredContent: { n: 1 } })).toEqual({ structuredContent: { n: 1 }, content: [] });
  });

  it('refuses a result the spec schema refuses, naming where', () => {
    for (const bad of [
      { content: [{ type: 'nope' }] },
      { content: [{ type: 'text' }] },
      { content: 'text' },
      { content: [], isError: 'yes' },
    ]) {
      let thrown: unknown;
      try {
        checkedResult(bad as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(bad)).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).code).toBe(-32602);
      expect((thrown as ProtocolError).message).toMatch(/^Invalid tools\/call result: /);
    }
  });
});
