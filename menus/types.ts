/**
 * Named, reusable validators for the value types of menus/model.ts. Pure functions: each takes
 * the user's text and returns the canonical stored form or a reason. `describeType` is what `?`
 * prints. Addresses and prefixes are parsed by ipaddr.js.
 */
import ipaddr from 'ipaddr.js';
import {
  CHARSETS,
  type AddressType,
  type BooleanType,
  type EnumType,
  type HostType,
  type IntegerType,
  type ListType,
  type PrefixType,
  type ReferenceType,
  type SecretType,
  type StringType,
  type ValueType,
} from './model.js';

export type Parsed = { ok: true; value: string } | { ok: false; reason: string };

/** What a reference check may look up: does `key` name a row of the table at `tablePath`? */
export interface ValueContext {
  hasRow?(tablePath: string, key: string): boolean;
  /** The canonical spelling of the row key (keys match case-insensitively). */
  rowKey?(tablePath: string, key: string): string | undefined;
}

const ok = (value: string): Parsed => ({ ok: true, value });
/** Shortens user input quoted in a reason (never used for secrets). */
const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}...` : s);
const bad = (reason: string): Parsed => ({ ok: false, reason });

export function validateString(type: StringType, input: string): Parsed {
  const cs = CHARSETS[type.charset];
  if (input.length > type.maxLength) return bad(`at most ${type.maxLength} characters (got ${input.length})`);
  if (type.minLength !== undefined && input.length < type.minLength) return bad(`at least ${type.minLength} character(s)`);
  if (!cs.pattern.test(input)) return bad(`characters from ${cs.description} only`);
  return ok(input);
}

export function validateInteger(type: IntegerType, input: string): Parsed {
  if (!/^-?[0-9]{1,16}$/.test(input)) return bad(`an integer ${type.min}..${type.max}${type.unit ? ` ${type.unit}` : ''}`);
  const n = Number(input);
  if (!Number.isSafeInteger(n) || n < type.min || n > type.max)
    return bad(`out of range ${type.min}..${type.max}${type.unit ? ` ${type.unit}` : ''}`);
  return ok(String(n));
}

/** Case-insensitive; an unambiguous prefix selects the member. */
export function validateEnum(type: EnumType, input: string): Parsed {
  const low = input.toLowerCase();
  const exact = type.values.find((v) => v.toLowerCase() === low);
  if (exact !== undefined) return ok(exact);
  const pre = low.length > 0 ? type.values.filter((v) => v.toLowerCase().startsWith(low)) : [];
  if (pre.length === 1) return ok(pre[0]!);
  if (pre.length > 1) return bad(`ambiguous: ${pre.join(', ')}`);
  return bad(`invalid value '${clip(input)}'`);
}

export function validateBoolean(type: BooleanType, input: string): Parsed {
  const low = input.toLowerCase();
  const [t, f] = type.style === 'yes-no' ? ['yes', 'no'] : ['on', 'off'];
  if (['yes', 'on', 'true', '1'].includes(low)) return ok(t);
  if (['no', 'off', 'false', '0'].includes(low)) return ok(f);
  return bad(`invalid value '${clip(input)}'`);
}

export function validateAddress(type: AddressType, input: string): Parsed {
  if (input === '' && type.allowEmpty) return ok('');
  const want = type.family === 4 ? 'an IPv4 address' : type.family === 6 ? 'an IPv6 address' : 'an IPv4 or IPv6 address';
  if (type.family === 4 ? !ipaddr.IPv4.isValidFourPartDecimal(input) : !ipaddr.isValid(input)) return bad(want);
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(input);
  } catch {
    return bad(want);
  }
  if (type.family === 4 && addr.kind() !== 'ipv4') return bad(want);
  if (type.family === 6 && addr.kind() !== 'ipv6') return bad(want);
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(input)) return bad(want);
  return ok(addr.toString());
}

export function validatePrefix(type: PrefixType, input: string): Parsed {
  if (input === '' && type.allowEmpty) return ok('');
  const want = type.family === 4 ? 'an IPv4 prefix a.b.c.d/len' : type.family === 6 ? 'an IPv6 prefix x::/len' : 'a prefix a.b.c.d/len or x::/len';
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(input);
  } catch {
    return bad(want);
  }
  const [addr, len] = parsed;
  if (type.family === 4 && addr.kind() !== 'ipv4') return bad(want);
  if (type.family === 6 && addr.kind() !== 'ipv6') return bad(want);
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(input.split('/')[0]!)) return bad(want);
  if (!/\/[0-9]{1,3}$/.test(input)) return bad(want);
  return ok(`${addr.toString()}/${len}`);
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.endsWith('.') ? s.slice(0, -1) : s).split('.');
  if (labels.some((l) => !DNS_LABEL.test(l))) return false;
  // A name made only of digits and dots would be a malformed IPv4 address.
  return !/^[0-9.]+$/.test(s);
}

export function validateHost(type: HostType, input: string): Parsed {
  if (input === '' && type.allowEmpty) return ok('');
  if (input === '*' && type.wildcard) return ok('*');
  const want = `an IPv4/IPv6 address or DNS name${type.port ? ' with optional :port ([v6]:port)' : ''}${type.wildcard ? ', or *' : ''}`;
  let host = input;
  let port: string | undefined;
  const v6Port = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(input);
  if (v6Port) {
    host = v6Port[1]!;
    port = v6Port[2]!;
    if (!ipaddr.IPv6.isValid(host)) return bad(want);
  } else if (/^[^:]+:[0-9]{1,5}$/.test(input)) {
    const i = input.lastIndexOf(':');
    host = input.slice(0, i);
    port = input.slice(i + 1);
  }
  if (port !== undefined) {
    if (!type.port) return bad(want);
    const p = Number(port);
    if (p < 1 || p > 65535) return bad(`port 1..65535`);
    port = String(p);
  }
  let canon: string;
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) canon = ipaddr.parse(host).toString();
  else if (ipaddr.IPv6.isValid(host) && host.includes(':')) canon = ipaddr.parse(host).toString();
  else if (isDnsName(host)) canon = host.toLowerCase();
  else return bad(want);
  if (port === undefined) return ok(canon);
  return ok(canon.includes(':') ? `[${canon}]:${port}` : `${canon}:${port}`);
}

/** A secret's text is checked for length and printable characters; the config layer hashes or stores it. */
export function validateSecret(type: SecretType, input: string): Parsed {
  if (input.length > type.maxLength) return bad(`at most ${type.maxLength} characters`);
  if (!/^[\x20-\x7e]*$/.test(input)) return bad('printable ASCII only');
  return ok(input);
}

export function validateReference(type: ReferenceType, input: string, ctx: ValueContext = {}): Parsed {
  if (input === '') return type.allowEmpty ? ok('') : bad(`the key of a row of ${type.table}`);
  if (!CHARSETS.name.pattern.test(input) || input.length > 64) return bad(`the key of a row of ${type.table}`);
  if (ctx.rowKey) {
    const k = ctx.rowKey(type.table, input);
    if (k === undefined) return bad(`no row '${input}' in ${type.table}`);
    return ok(k);
  }
  if (ctx.hasRow && !ctx.hasRow(type.table, input)) return bad(`no row '${input}' in ${type.table}`);
  return ok(input);
}

export function validateList(type: ListType, input: string, ctx: ValueContext = {}): Parsed {
  const items = input.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return type.allowEmpty ? ok('') : bad(`a comma-separated list of ${describeBrief(type.of)}`);
  if (items.length > type.maxItems) return bad(`at most ${type.maxItems} items`);
  const out: string[] = [];
  for (const item of items) {
    const r = validateValue(type.of, item, ctx);
    if (!r.ok) return bad(`item '${item}': ${r.reason}`);
    if (!out.includes(r.value)) out.push(r.value);
  }
  return ok(out.join(','));
}

/** Validates and canonicalises `input` for `type`. */
export function validateValue(type: ValueType, input: string, ctx: ValueContext = {}): Parsed {
  switch (type.kind) {
    case 'string':
      return validateString(type, input);
    case 'integer':
      return validateInteger(type, input);
    case 'enum':
      return validateEnum(type, input);
    case 'boolean':
      return validateBoolean(type, input);
    case 'address':
      return validateAddress(type, input);
    case 'prefix':
      return validatePrefix(type, input);
    case 'host':
      return validateHost(type, input);
    case 'secret':
      return validateSecret(type, input);
    case 'reference':
      return validateReference(type, input, ctx);
    case 'list':
      return validateList(type, input, ctx);
  }
}

/** A short noun phrase for the type, used inside list descriptions. */
export function describeBrief(type: ValueType): string {
  switch (type.kind) {
    case 'string':
      return `string (max ${type.maxLength})`;
    case 'integer':
      return `integer ${type.min}..${type.max}`;
    case 'enum':
      return type.values.join('|');
    case 'boolean':
      return type.style === 'yes-no' ? 'yes|no' : 'on|off';
    case 'address':
      return type.family === 4 ? 'IPv4 address' : type.family === 6 ? 'IPv6 address' : 'IP address';
    case 'prefix':
      return type.family === 4 ? 'IPv4 prefix' : type.family === 6 ? 'IPv6 prefix' : 'prefix';
    case 'host':
      return 'host';
    case 'secret':
      return 'secret';
    case 'reference':
      return `row of ${type.table}`;
    case 'list':
      return `list of ${describeBrief(type.of)}`;
  }
}

/** The `Possible values:` text of `?` help and of refusals. */
export function describeType(type: ValueType): string {
  switch (type.kind) {
    case 'string':
      return `max ${type.maxLength} chars from ${CHARSETS[type.charset].description}${type.minLength ? `, at least ${type.minLength}` : ''}`;
    case 'integer':
      return `${type.min}..${type.max}${type.unit ? ` ${type.unit}` : ''}`;
    case 'enum':
      return type.values.join(', ');
    case 'boolean':
      return type.style === 'yes-no' ? 'yes, no' : 'on, off';
    case 'address':
      return `${describeBrief(type)}${type.allowEmpty ? ' or empty' : ''}`;
    case 'prefix':
      return `${type.family === 4 ? 'a.b.c.d/len' : type.family === 6 ? 'x:x::x/len' : 'a.b.c.d/len or x:x::x/len'}${type.allowEmpty ? ' or empty' : ''}`;
    case 'host':
      return `IPv4/IPv6 address or DNS name${type.port ? '[:port]' : ''}${type.wildcard ? ' or *' : ''}${type.allowEmpty ? ' or empty' : ''}`;
    case 'secret':
      return `max ${type.maxLength} chars, printable ASCII (secret: stored${type.storage === 'hash' ? ' as a hash' : ''}, never shown)`;
    case 'reference':
      return `a row key of ${type.table}${type.allowEmpty ? ' or empty' : ''}`;
    case 'list':
      return `comma-separated list (max ${type.maxItems}) of ${describeType(type.of)}${type.allowEmpty ? ', or empty' : ''}`;
  }
}

/** Values for completion: enum members and boolean words. */
export function typeCompletions(type: ValueType): readonly string[] {
  if (type.kind === 'enum') return type.values;
  if (type.kind === 'boolean') return type.style === 'yes-no' ? ['yes', 'no'] : ['on', 'off'];
  return [];
}
