import { describe, expect, it } from 'vitest';
import { paramHeaderMismatch } from './param-headers.js';

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    limit: { type: 'integer', 'x-mcp-header': 'Limit' },
    dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
    options: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
    list: { type: 'array', items: { type: 'object', properties: { x: { type: 'string', 'x-mcp-header': 'X' } } } },
    query: { type: 'string' },
  },
};
const check = (headers: Record<string, string>, args: Record<string, unknown>) =>
  paramHeaderMismatch(new Headers(headers), { name: 'db__execute', arguments: args }, () => schema);
const b64 = (text: string) => `=?base64?${Buffer.from(text).toString('base64')}?=`;

describe('Mcp-Param-* headers', () => {
  it('accept headers that mirror the arguments, plain or Base64, names in any case', () => {
    expect(
      check(
        { 'mcp-param-region': 'us-west1', 'Mcp-Param-Limit': '42.0', 'MCP-PARAM-DRY-RUN': 'false' },
        {
          region: 'us-west1',
          limit: 42,
          dry: false,
          query: 'SELECT 1',
        },
      ),
    ).toBeUndefined();
    expect(
      check(
        { 'Mcp-Param-Region': b64('Hello, 世界'), 'Mcp-Param-Tenant': b64(' padded ') },
        {
          region: 'Hello, 世界',
          options: { tenant: ' padded ' },
        },
      ),
    ).toBeUndefined();
    // A value that looks like the sentinel travels encoded.
    expect(check({ 'Mcp-Param-Region': b64('=?base64?literal?=') }, { region: '=?base64?literal?=' })).toBeUndefined();
  });

  it('need no header for an argument that is absent or null, and ignore annotations under items', () => {
    expect(check({}, { region: null, query: 'x', list: [{ x: 'y' }] })).toBeUndefined();
  });

  it('refuse a header that disagrees with the body, is missing, is malformed, or has no argument', () => {
    expect(check({ 'Mcp-Param-Region': 'Goodbye' }, { region: 'Hello' })).toBe(
      "Mcp-Param-Region header value 'Goodbye' does not match body value 'Hello'",
    );
    expect(check({}, { region: 'Hello' })).toBe('Mcp-Param-Region header is missing for argument region');
    expect(check({ 'Mcp-Param-Region': '=?base64?SGVs!!!bG8=?=' }, { region: 'Hello' })).toBe(
      'Mcp-Param-Region header value is not valid Base64 inside =?base64?…?=',
    );
    expect(check({ 'Mcp-Param-Limit': '' }, { limit: 0 })).toContain('does not match');
    expect(check({ 'Mcp-Param-Dry-Run': 'True' }, { dry: true })).toContain('does not match');
    expect(check({ 'Mcp-Param-Tenant': 'acme' }, {})).toBe(
      'Mcp-Param-Tenant header is present but the argument options.tenant is not',
    );
  });

  it('leave tools without annotations, and unknown tools, alone', () => {
    expect(
      paramHeaderMismatch(new Headers({ 'Mcp-Param-Region': 'x' }), { name: 'other', arguments: {} }, () => undefined),
    ).toBeUndefined();
  });
});
