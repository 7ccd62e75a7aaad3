/**
 * `ping ADDRESS [-c COUNT] [-s SIZE] [-a SOURCE] [-i INTERVAL-MS]`, as on LCOS: ICMP echo
 * requests the node itself originates (from its LAN address by default), routed by the
 * engine like any packet (into the hub tunnel, a mesh tunnel, the LAN), with a line per
 * reply or timeout and the loss and RTT summary. Ctrl-C ends it early.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { Engine } from '../engine/engine.js';
import { parseAddress } from '../engine/dataplane/address.js';
import { buildEchoRequest, ICMPV4, ICMPV6, parseIp } from '../engine/dataplane/ip-packet.js';
import type { OutputBlock } from '../shell/session-api.js';
import { InvalidValueError } from '../config/index.js';
import type { RequestContext, ToolProvider } from './router.js';

const USAGE = 'ping ADDRESS [-c COUNT] [-s SIZE] [-a SOURCE] [-i INTERVAL-MS]';

const MAX_COUNT = 10_000;
const MAX_SIZE = 1400;
let nextId = 0x4d00;

export function pingTool(engine: Engine): ToolProvider {
  return {
    async run(argv: readonly string[], ctx: RequestContext, write: (b: OutputBlock) => void): Promise<void> {
      let parsed;
      try {
        parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { c: { type: 'string' }, s: { type: 'string' }, a: { type: 'string' }, i: { type: 'string' } } });
      } catch (err) {
        throw new InvalidValueError('ping', (err as Error).message, USAGE);
      }
      const [dst, ...extra] = parsed.positionals;
      if (!dst || extra.length) throw new InvalidValueError('ping', 'one destination address', USAGE);
      const num = (v: string | undefined, def: number, min: number, max: number, what: string): number => {
        if (v === undefined) return def;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min || n > max) throw new InvalidValueError(`ping ${what}`, `'${v.slice(0, 20)}' is out of range`, `${what} must be ${min}..${max}`);
        return n;
      };
      const count = num(parsed.values.c, 4, 1, MAX_COUNT, '-c count');
      const size = num(parsed.values.s, 56, 0, MAX_SIZE, '-s size');
      const interval = num(parsed.values.i, 1000, 10, 60_000, '-i interval');
      const family = isIP(dst);
      if (!family) throw new InvalidValueError('ping', `'${dst.slice(0, 60)}' is not an address`, 'an IPv4 or IPv6 address');
      const srcText = parsed.values.a ?? engine.ownAddresses().find((a) => isIP(a) === family);
      if (!srcText || isIP(srcText) !== family) throw new InvalidValueError('ping -a', 'no source address of the same family', 'configure a LAN address or give -a ADDRESS');
      const src = parseAddress(srcText)!;
      const dstBytes = parseAddress(dst)!;
      const id = nextId++ & 0xffff;
      const clock = engine.clock;
      const sentAt = new Map<number, number>();
      const rtts: number[] = [];
      let sent = 0;
      write({ kind: 'text', text: `PING ${dst} from ${srcText}: ${size} data bytes` });
      await new Promise<void>((resolve) => {
        let finished = false;
        const timers: { cancel(): void }[] = [];
        const finish = () => {
          if (finished) return;
          finished = true;
          off();
          for (const t of timers) t.cancel();
          ctx.signal?.removeEventListener('abort', finish);
          resolve();
        };
        const off = engine.onLocalPacket((pkt) => {
          const p = parseIp(pkt);
          if (!p || !p.hasL4) return;
          const reply = p.icmpType === (family === 6 ? ICMPV6.echoReply : ICMPV4.echoReply);
          if (!reply || p.icmpId !== id) {
            if (p.icmpType >= 0 && !reply && p.icmpType !== (family === 6 ? ICMPV6.echoRequest : ICMPV4.echoRequest)) {
              write({ kind: 'text', text: `ICMP type ${p.icmpType} code ${p.icmpCode} from ${fmt(pkt, p.srcOffset, p.addressLength)}` });
            }
            return;
          }
          const seq = (pkt[p.l4Offset + 6]! << 8) | pkt[p.l4Offset + 7]!;
          const t0 = sentAt.get(seq);
          if (t0 === undefined) return;
          sentAt.delete(seq);
          const rtt = clock.now() - t0;
          rtts.push(rtt);
          write({ kind: 'text', text: `${p.totalLength - p.headerLength} bytes from ${dst}: seq=${seq} ttl=${p.ttl} time=${rtt.toFixed(1)} ms` });
          if (rtts.length === count) finish();
        });
        ctx.signal?.addEventListener('abort', finish, { once: true });
        for (let seq = 0; seq < count; seq++) {
          timers.push(
            clock.setTimer(seq * interval, () => {
              const pkt = buildEchoRequest({ src, dst: dstBytes, id, seq, size });
              sentAt.set(seq, clock.now());
              sent++;
              const drop = engine.forwarder.originate(pkt);
              if (drop) write({ kind: 'text', text: `seq=${seq}: not sent (${drop})` });
            }),
          );
        }
        timers.push(clock.setTimer((count - 1) * interval + 2000, finish));
      });
      const lost = sent - rtts.length;
      const sorted = [...rtts].sort((a, b) => a - b);
      const avg = rtts.reduce((a, b) => a + b, 0) / (rtts.length || 1);
      write({
        kind: 'text',
        text:
          `--- ${dst} ping statistics ---\n${sent} packets transmitted, ${rtts.length} received, ${sent ? Math.round((100 * lost) / sent) : 0}% packet loss` +
          (rtts.length ? `\nrtt min/avg/max = ${sorted[0]!.toFixed(1)}/${avg.toFixed(1)}/${sorted.at(-1)!.toFixed(1)} ms` : ''),
      });
    },
  };
}

function fmt(buf: Uint8Array, off: number, len: number): string {
  if (len === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((buf[off + i]! << 8) | buf[off + i + 1]!).toString(16));
  return w.join(':');
}
