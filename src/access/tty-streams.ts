/**
 * Terminal-like streams over an SSH channel, for Ink: stdin with raw mode (a no-op: the
 * client's terminal is already raw under a pty-req), stdout with the client's size and
 * `resize` events, and newline translation (there is no line discipline on our side of
 * the channel, so `\n` must go out as `\r\n`).
 */
import { PassThrough, Writable, type Duplex } from 'node:stream';

export interface ChannelTty {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  resize(cols: number, rows: number): void;
  /** Stops forwarding (the channel closed). */
  detach(): void;
}

export function toCrlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}

function ttyWritable(channel: Duplex, size: { cols: number; rows: number }): NodeJS.WriteStream {
  const w = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      if (!channel.destroyed && channel.writable) channel.write(toCrlf(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { columns: number; rows: number; isTTY: boolean };
  w.isTTY = true;
  w.columns = size.cols;
  w.rows = size.rows;
  return w;
}

export function channelTty(channel: Duplex, size: { cols: number; rows: number }): ChannelTty {
  const input = new PassThrough({ encoding: 'utf8' }) as unknown as NodeJS.ReadStream & { isTTY: boolean };
  input.isTTY = true;
  const fake = input as unknown as { setRawMode: (m: boolean) => unknown; ref: () => unknown; unref: () => unknown };
  fake.setRawMode = () => input;
  fake.ref = () => input;
  fake.unref = () => input;
  const onData = (d: Buffer | string) => input.write(d);
  channel.on('data', onData);
  const stdout = ttyWritable(channel, size);
  const stderr = ttyWritable(channel, size);
  return {
    stdin: input,
    stdout,
    stderr,
    resize(cols, rows) {
      for (const s of [stdout, stderr] as (NodeJS.WriteStream & { columns: number; rows: number })[]) {
        s.columns = cols;
        s.rows = rows;
        s.emit('resize');
      }
    },
    detach() {
      channel.off('data', onData);
      input.end();
    },
  };
}
