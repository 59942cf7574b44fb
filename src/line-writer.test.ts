import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineWriter } from './line-writer.js';

function sink(fail?: Error) {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done(fail);
    },
  });
  stream.on('error', () => undefined);
  return { stream, writes };
}

describe('LineWriter', () => {
  it('writes the first frame of a turn at once and the rest of the turn in one write, in order', async () => {
    const { stream, writes } = sink();
    const writer = new LineWriter(stream);
    const sent = ['a\n', 'b\n', 'c\n'].map((frame) => writer.write(frame));
    expect(writes).toEqual(['a\n']);
    await Promise.all(sent);
    expect(writes).toEqual(['a\n', 'b\nc\n']);
    await writer.write('d\n'); // a later turn starts again with a write of its own
    expect(writes).toEqual(['a\n', 'b\nc\n', 'd\n']);
  });

  it('flush() writes what is queued now', () => {
    const { stream, writes } = sink();
    const writer = new LineWriter(stream);
    void writer.write('a\n');
    void writer.write('b\n');
    writer.flush();
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('rejects every frame of a write that fails', async () => {
    const failure = new Error('EPIPE');
    const writer = new LineWriter(sink(failure).stream);
    const results = await Promise.allSettled([writer.write('a\n'), writer.write('b\n'), writer.write('c\n')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});
