/**
 * The responder's IKE_AUTH hooks (auth-hooks.ts): resolveResponderConfig when no configured
 * peer matches, authorize after AUTH verified; both synchronous or asynchronous. While a hook
 * is pending the request's retransmissions are ignored and the message IDs do not move; a
 * refusal, an error or a timeout answers AUTHENTICATION_FAILED and the SA never comes up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePeerConfig, type PeerConfig } from '../../../src/engine/ike/peer-config.js';
import type { AuthDecision, AuthorizeInfo } from '../../../src/engine/ike/auth-hooks.js';
import type { IkeEngineOptions } from '../../../src/engine/ike/ike-engine.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A responder whose only configured peer is someone else: spoke1's config comes from the hook. */
function directoryResponder(options: Partial<IkeEngineOptions>): { h: TwoParty; site: PeerConfig } {
  const h = new TwoParty(options);
  h.r.engine.addPeer(responderConfig({ name: 'other', remoteId: 'other.example' }));
  h.i.engine.addPeer(initiatorConfig());
  return { h, site: resolvePeerConfig(responderConfig({ name: 'site-spoke1' })) };
}

test('resolveResponderConfig (synchronous) supplies the config of an identity no configured peer matches', () => {
  const asked: string[] = [];
  let site: PeerConfig | undefined;
  const { h, site: s } = directoryResponder({ resolveResponderConfig: (id) => (asked.push(`${id?.type}:${id?.value}`), id?.value === 'spoke1.example' ? site : undefined) });
  site = s;
  h.settle();
  assert.deepEqual(asked, ['fqdn:spoke1.example']);
  const rsa = h.r.engine.allSas()[0]!;
  assert.equal(rsa.state, 'established');
  assert.equal(rsa.config, site);
  assert.equal(h.i.engine.sasOf('hub')[0]?.state, 'established');
  assert.equal(h.r.installer.list().length, 2);
});

test('resolveResponderConfig answering undefined: AUTHENTICATION_FAILED, no peer configured', () => {
  const { h } = directoryResponder({ resolveResponderConfig: () => undefined });
  h.settle();
  assert.equal(h.r.engine.counters['no-peer-config'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /no peer configured for fqdn:spoke1.example/);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
});

test('asynchronous lookup: the request waits, its retransmissions are ignored, the answer goes out when the lookup resolves', async () => {
  const lookup = deferred<PeerConfig | undefined>();
  const { h, site } = directoryResponder({ resolveResponderConfig: () => lookup.promise });
  h.step(); // IKE_SA_INIT request
  h.step(); // response
  h.step(); // IKE_AUTH request: suspended
  assert.equal(h.inFlight, 0, 'no answer while the lookup is pending');
  const rsa = h.r.engine.allSas()[0]!;
  assert.equal(rsa.tasks.pendingRequest, 1);
  assert.deepEqual(rsa.tasks.messageIds, { initiating: 0, responding: 1 });
  // The initiator retransmits after 4 s: the responder ignores it (no second processing, no answer).
  h.clock.advance(4000);
  assert.equal(h.inFlight, 1);
  h.step();
  assert.equal(h.inFlight, 0);
  assert.equal(h.r.engine.counters['retransmit-while-pending'], 1);
  lookup.resolve(site);
  await tick();
  assert.equal(h.inFlight, 1, 'the response is sent once the lookup answered');
  const s = h.step();
  assert.deepEqual(s.names, ['IDr', 'AUTH', 'SA', 'TSi', 'TSr']);
  assert.equal(rsa.state, 'established');
  assert.deepEqual(rsa.tasks.messageIds, { initiating: 0, responding: 2 });
  assert.equal(rsa.tasks.pendingRequest, undefined);
  assert.equal(h.i.engine.sasOf('hub')[0]?.state, 'established');
});

test('a hook that never answers: AUTHENTICATION_FAILED after the bounded timeout; a late answer changes nothing', async () => {
  const lookup = deferred<PeerConfig | undefined>();
  const { h, site } = directoryResponder({ resolveResponderConfig: () => lookup.promise, authHookTimeoutMs: 3000 });
  h.step();
  h.step();
  h.step();
  assert.equal(h.inFlight, 0);
  h.clock.advance(2999);
  assert.equal(h.inFlight, 0);
  h.clock.advance(1);
  assert.equal(h.inFlight, 1);
  const s = h.step();
  assert.deepEqual(s.names, ['N(AUTH_FAILED)']);
  assert.equal(h.r.engine.counters['auth-hook-timeout'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /no answer from the responder hook in time/);
  assert.equal(h.r.engine.allSas().length, 0);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
  lookup.resolve(site);
  await tick();
  assert.equal(h.inFlight, 0);
  assert.equal(h.r.events['ike-up'], undefined);
});

test('authorize (synchronous) refusing: AUTHENTICATION_FAILED with the reason; the SA never comes up', () => {
  const seen: AuthorizeInfo[] = [];
  const h = new TwoParty({
    authorize: (_sa, config, info): AuthDecision => (seen.push(info), config.name === 'spoke1' ? { ok: false, reason: 'licence exhausted' } : { ok: true }),
  });
  h.establish();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.identity?.value, 'spoke1.example');
  assert.equal(seen[0]!.method, 'psk');
  assert.deepEqual(seen[0]!.remoteTs.map((t) => t.startAddress), ['10.1.0.0']);
  assert.equal(h.r.engine.counters['auth-refused'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /fqdn:spoke1.example refused: licence exhausted/);
  assert.equal(h.r.events['ike-up'], undefined);
  assert.equal(h.r.events['child-up'], undefined);
  assert.equal(h.r.installer.list().length, 0);
  assert.equal(h.r.engine.allSas().length, 0);
  assert.equal(h.i.events['auth-failed']![0]!.side, 'remote');
});

test('authorize (asynchronous) accepting: the SA comes up once it answers', async () => {
  const decision = deferred<AuthDecision>();
  const h = new TwoParty({ authorize: () => decision.promise });
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  h.step();
  h.step();
  h.step();
  const rsa = h.r.engine.allSas()[0]!;
  assert.equal(rsa.state, 'connecting');
  assert.equal(h.r.events['ike-up'], undefined);
  decision.resolve({ ok: true });
  await tick();
  h.settle();
  assert.equal(rsa.state, 'established');
  assert.equal(h.i.engine.sasOf('hub')[0]?.state, 'established');
});

test('authorize (asynchronous) refusing, and a hook that throws, answer AUTHENTICATION_FAILED', async () => {
  for (const [hook, counter] of [
    [() => Promise.resolve<AuthDecision>({ ok: false, reason: 'collision' }), 'auth-refused'],
    [() => Promise.reject(new Error('database down')), 'auth-hook-error'],
  ] as const) {
    const h = new TwoParty({ authorize: hook });
    h.r.engine.addPeer(responderConfig());
    h.i.engine.addPeer(initiatorConfig());
    h.step();
    h.step();
    h.step();
    await tick();
    const s = h.step();
    assert.deepEqual(s.names, ['N(AUTH_FAILED)']);
    assert.equal(h.r.engine.counters[counter], 1, counter);
    assert.equal(h.r.engine.allSas().length, 0);
    assert.equal(h.r.events['ike-up'], undefined);
  }
});

test('the responder SA dies while a hook is pending (engine stopped): nothing is sent, no error', async () => {
  const decision = deferred<AuthDecision>();
  const h = new TwoParty({ authorize: () => decision.promise });
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  h.step();
  h.step();
  h.step();
  await h.r.engine.stop();
  decision.resolve({ ok: true });
  await tick();
  h.clock.advance(20_000);
  assert.equal(h.net.queue.filter((d) => d.from.address === '192.0.2.1').length, 0);
  assert.equal(h.r.engine.counters['task-error'], undefined);
  assert.equal(h.r.engine.lastInternalError, undefined);
});
