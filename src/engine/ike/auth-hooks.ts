/**
 * The responder's hooks into IKE_AUTH (IkeEngineOptions), both allowed to answer later
 * (a Promise): processing of that IKE_AUTH request is suspended, retransmissions of the
 * request are ignored meanwhile, and the response goes out when the hook answers — or
 * AUTHENTICATION_FAILED after `authHookTimeoutMs`.
 *
 *  - resolveResponderConfig: consulted when no configured peer matches the initiator's
 *    identity (the site directory looks a site up by its IKE identity).
 *  - authorize: after AUTH verified, before the response is built; a refusal answers
 *    AUTHENTICATION_FAILED (RFC 7296 section 2.21.2) and the SA never comes up.
 */
import type { Endpoint } from '../net/types.js';
import type { IkeSa } from './ike-sa.js';
import type { Identity, PeerConfig } from './peer-config.js';
import type { TrafficSelector } from './traffic-selector.js';

export type AuthDecision = { ok: true } | { ok: false; reason: string };

/** What the responder knows of the request when it asks `authorize`. */
export interface AuthorizeInfo {
  /** The authenticated identity of the initiator (undefined for ID types meshgate does not match on). */
  identity: Identity | undefined;
  /** The initiator's networks of the first child SA (its TSi, narrowed to the config), if one was asked for. */
  remoteTs: TrafficSelector[];
  /** How the initiator authenticated. */
  method: 'psk' | 'cert';
}

export interface ResponderHookOptions {
  resolveResponderConfig?(identity: Identity | undefined, remote: Endpoint): PeerConfig | undefined | Promise<PeerConfig | undefined>;
  authorize?(sa: IkeSa, config: PeerConfig, info: AuthorizeInfo): AuthDecision | Promise<AuthDecision>;
  /** A pending hook answers within this or the initiator gets AUTHENTICATION_FAILED. Default 10 s. */
  authHookTimeoutMs?: number;
}

export const DEFAULT_AUTH_HOOK_TIMEOUT_MS = 10_000;

/** What an IKE SA's context carries of the hooks (IkeSaContext.hooks). */
export interface ResponderHooks extends ResponderHookOptions {
  /** SHA-1 key ids of the CAs that responder configs trust (CERTREQ in IKE_SA_INIT). */
  certRequestKeyIds?(remote: Endpoint): Uint8Array[];
}

/** The hooks of an engine: the options' plus the CERTREQ key ids of its responder configs. */
export function responderHooks(options: ResponderHookOptions, responderConfigs: () => PeerConfig[]): ResponderHooks {
  const hooks: ResponderHooks = {
    certRequestKeyIds: () => {
      // Peers of one CA file share one TrustStore object: thousands of site configs cost a Set lookup each.
      const stores = new Set<import('../pki/certificate.js').TrustStore>();
      for (const c of responderConfigs()) if (c.auth.remoteMethod === 'cert' && c.auth.trust) stores.add(c.auth.trust);
      const seen = new Set<string>();
      const out: Uint8Array[] = [];
      for (const t of stores) {
        for (const k of t.keyIds) {
          const hex = Buffer.from(k).toString('hex');
          if (!seen.has(hex)) out.push(k), seen.add(hex);
        }
      }
      return out;
    },
  };
  if (options.resolveResponderConfig) hooks.resolveResponderConfig = options.resolveResponderConfig;
  if (options.authorize) hooks.authorize = options.authorize;
  if (options.authHookTimeoutMs !== undefined) hooks.authHookTimeoutMs = options.authHookTimeoutMs;
  return hooks;
}

/** `then` that stays synchronous for plain values (so a hook without a Promise costs no tick). */
export function chain<T, R>(v: T | Promise<T>, fn: (t: T) => R | Promise<R>): R | Promise<R> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}
