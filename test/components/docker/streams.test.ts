import { PassThrough, Readable } from 'stream';
import { Demultiplexer, LineSplitter, cleanLine, progressLine, readProgress } from '../../../lib/components/docker/streams';

describe('splitting remote output into lines', () => {
  it('splits on newlines, trims trailing space, keeps what follows the last carriage return, and flushes the last line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.write('one\ntw');
    s.write(Buffer.from('o  \n\n50%\r100%\nlast'));
    s.end();
    expect(lines).toEqual(['one', 'two', '', '100%', 'last']);
  });

  it('does not cut a UTF-8 character split across chunks', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('héllo\n');
    s.write(bytes.subarray(0, 2));
    s.write(bytes.subarray(2));
    s.end();
    expect(lines).toEqual(['héllo']);
  });

  it('cleans a line as Packer does', () => {
    expect(cleanLine('progress 10%\rprogress 100%   ')).toBe('progress 100%');
  });
});

describe('demultiplexing exec output', () => {
  it('sends each frame to stdout or stderr, whatever the chunking', () => {
    const frame = (type: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const all = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more')]);
    const out: string[] = [];
    const err: string[] = [];
    const d = new Demultiplexer((b) => out.push(b.toString()), (b) => err.push(b.toString()));
    for (let i = 0; i < all.length; i += 3) d.write(all.subarray(i, i + 3));
    expect(out.join('')).toBe('out\nmore');
    expect(err.join('')).toBe('err\n');
  });
});

describe('reading a JSON progress stream', () => {
  it('hands on each message and resolves at the end', async () => {
    const seen: string[] = [];
    const stream = Readable.from(['{"status":"Pulling from x","id":"1"}\n{"status":"Downl', 'oading","progressDetail":{"current":5},"id":"a"}\n{"status":"Done"}']);
    const all = await readProgress(stream, (m) => seen.push(progressLine(m) ?? '-'));
    expect(seen).toEqual(['1: Pulling from x', '-', 'Done']);
    expect(all).toHaveLength(3);
  });

  it('fails with the error that arrives inside the stream', async () => {
    const stream = Readable.from(['{"status":"Preparing"}\n{"errorDetail":{"message":"denied: access"},"error":"denied: access"}\n']);
    await expect(readProgress(stream, () => {})).rejects.toThrow('denied: access');
  });

  it('fails when the connection closes before the end', async () => {
    const stream = new PassThrough();
    const reading = readProgress(stream, () => {});
    stream.write('{"status":"x"}\n');
    stream.destroy();
    await expect(reading).rejects.toThrow('the Docker engine closed the connection before the operation finished');
  });

  it('stops at once when cancelled', async () => {
    const stream = new PassThrough();
    const ac = new AbortController();
    const reading = readProgress(stream, () => {}, ac.signal);
    ac.abort();
    await expect(reading).rejects.toThrow('build cancelled');
    expect(stream.destroyed).toBe(true);
  });
});
