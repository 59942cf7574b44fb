import { describe, expect, it } from 'vitest';
import { rewritePromptResult, rewriteReadResult, rewriteToolResult } from './rewrite.js';

describe('rewriteToolResult', () => {
  it('maps resource_link URIs and embedded resource URIs, leaving other blocks as they are', () => {
    const text = { type: 'text', text: 'see file:///tmp/a.txt' };
    const result = {
      content: [
        text,
        { type: 'resource_link', uri: 'file:///tmp/a.txt', name: 'a.txt', mimeType: 'text/plain' },
        { type: 'resource', resource: { uri: 'file:///tmp/b.txt', text: 'B', mimeType: 'text/plain' } },
      ],
      structuredContent: { uri: 'file:///tmp/a.txt' },
      isError: false,
    };
    const rewritten = rewriteToolResult('files', result);
    expect(rewritten).toEqual({
      content: [
        text,
        { type: 'resource_link', uri: 'switchboard://files/file:///tmp/a.txt', name: 'a.txt', mimeType: 'text/plain' },
        {
          type: 'resource',
          resource: { uri: 'switchboard://files/file:///tmp/b.txt', text: 'B', mimeType: 'text/plain' },
        },
      ],
      structuredContent: { uri: 'file:///tmp/a.txt' },
      isError: false,
    });
  });

  it('does not modify the upstream result', () => {
    const result = { content: [{ type: 'resource_link', uri: 'file:///a', name: 'a' }] };
    rewriteToolResult('files', result);
    expect(result.content[0]?.uri).toBe('file:///a');
  });

  it('returns the same object when nothing needs mapping', () => {
    const textOnly = {
      content: [
        { type: 'text', text: 'hi' },
        { type: 'image', data: 'AAAA', mimeType: 'image/png' },
      ],
    };
    expect(rewriteToolResult('files', textOnly)).toBe(textOnly);
    const empty = { content: [] };
    expect(rewriteToolResult('files', empty)).toBe(empty);
    const noContent = { structuredContent: { a: 1 } };
    expect(rewriteToolResult('files', noContent)).toBe(noContent);
  });
});

describe('rewritePromptResult', () => {
  it('maps resource URIs in message content', () => {
    const user = { role: 'user', content: { type: 'text', text: 'summarise this' } };
    const result = {
      description: 'd',
      messages: [
        user,
        { role: 'user', content: { type: 'resource', resource: { uri: 'memory://graph', text: '{}' } } },
        { role: 'assistant', content: { type: 'resource_link', uri: 'file:///x', name: 'x' } },
      ],
    };
    expect(rewritePromptResult('mem', result)).toEqual({
      description: 'd',
      messages: [
        user,
        {
          role: 'user',
          content: { type: 'resource', resource: { uri: 'switchboard://mem/memory://graph', text: '{}' } },
        },
        { role: 'assistant', content: { type: 'resource_link', uri: 'switchboard://mem/file:///x', name: 'x' } },
      ],
    });
  });

  it('returns the same object when nothing needs mapping', () => {
    const result = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }] };
    expect(rewritePromptResult('mem', result)).toBe(result);
  });
});

describe('rewriteReadResult', () => {
  it('maps the URI of every content item', () => {
    const result = {
      contents: [
        { uri: 'file:///a.txt', mimeType: 'text/plain', text: 'A' },
        { uri: 'file:///b.bin', blob: 'AAAA' },
      ],
      _meta: { k: 1 },
    };
    expect(rewriteReadResult('files', result)).toEqual({
      contents: [
        { uri: 'switchboard://files/file:///a.txt', mimeType: 'text/plain', text: 'A' },
        { uri: 'switchboard://files/file:///b.bin', blob: 'AAAA' },
      ],
      _meta: { k: 1 },
    });
    expect(result.contents[0]?.uri).toBe('file:///a.txt');
  });

  it('returns a result without contents unchanged', () => {
    const result = { other: true };
    expect(rewriteReadResult('files', result)).toBe(result);
  });
});
