import { describe, expect, it } from 'vitest';
import { fromGatewayUri, toGatewayUri } from './uris.js';

describe('toGatewayUri', () => {
  it('prefixes switchboard://<server>/ to the upstream URI, unchanged', () => {
    expect(toGatewayUri('files', 'file:///tmp/a.txt')).toBe('switchboard://files/file:///tmp/a.txt');
    expect(toGatewayUri('web', 'https://example.com/x?y=1#z')).toBe('switchboard://web/https://example.com/x?y=1#z');
  });
});

describe('fromGatewayUri', () => {
  it('gives back the server and the upstream URI', () => {
    for (const uri of [
      'file:///tmp/a.txt',
      'memory://graph',
      'https://example.com/a/b?c=d',
      'test://static/resource/1',
    ]) {
      expect(fromGatewayUri(toGatewayUri('srv-1', uri))).toEqual({ server: 'srv-1', uri });
    }
  });

  it('returns undefined for URIs outside the gateway namespace', () => {
    expect(fromGatewayUri('file:///tmp/a.txt')).toBeUndefined();
    expect(fromGatewayUri('switchboard:/files/x')).toBeUndefined();
    expect(fromGatewayUri('switchboard://files')).toBeUndefined();
    expect(fromGatewayUri('switchboard:///file:///x')).toBeUndefined();
  });

  it('maps templates so that expanding the mapped template gives the mapped expansion', () => {
    const template = 'file:///{path}';
    const expand = (t: string) => t.replace('{path}', 'docs/readme.md');
    const mapped = toGatewayUri('files', template);
    expect(mapped).toBe('switchboard://files/file:///{path}');
    expect(expand(mapped)).toBe(toGatewayUri('files', expand(template)));
    expect(fromGatewayUri(expand(mapped))).toEqual({ server: 'files', uri: 'file:///docs/readme.md' });
  });
});
