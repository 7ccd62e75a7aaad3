/**
 * IKE_AUTH with a pre-shared key or a certificate, and the first child SA (RFC 7296 section 1.2):
 *
 *   HDR, SK { IDi, [N(INITIAL_CONTACT)], [CERT+], [CERTREQ], [IDr,] AUTH, SAi2, TSi, TSr }  -->
 *                                         <--  HDR, SK { IDr, [CERT+], AUTH, SAr2, TSi, TSr }
 *
 * AUTH is the PSK MAC (method 2) or a signature (method 14, RFC 7427; see sig-auth.ts).
 * A responder that cannot verify AUTH answers SK { N(AUTHENTICATION_FAILED) } and forgets
 * the SA (section 2.21.2). A child that cannot be created (NO_PROPOSAL_CHOSEN,
 * TS_UNACCEPTABLE) does not stop the IKE SA (section 1.2).
 *
 * The responder may wait for the engine's hooks (auth-hooks.ts): process() then answers
 * 'pending' with `pending` set, and the task manager builds the response once it settles
 * (or after onPendingTimeout()).
 */
import { AuthMethod, ExchangeType, NotifyType, PayloadType, notifyTypeName } from '../constants.js';
import type { IdPayload, Message } from '../codec/types.js';
import type { ChildSa } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { addNotify, errorNotify, findNotify, first, notifyPayload } from '../message.js';
import { identityEquals, identityFromPayload, identityPayload, identityToString, type PeerConfig } from '../peer-config.js';
import { acceptEspChoice, chooseEsp, espProposals } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';
import { narrowTs, tsFromWire, tsSubset, tsToWire, type TrafficSelector } from '../traffic-selector.js';
import { authEquals, pskAuth } from './util.js';
import { chain, type AuthDecision } from '../auth-hooks.js';
import { certPayloads, certReqPayload, signatureAuthPayload, verifySignatureAuth } from './sig-auth.js';

export interface IkeAuthOptions {
  /** Send N(INITIAL_CONTACT): this is our only SA with the peer (section 2.4). */
  initialContact?: boolean;
}

export class IkeAuthTask implements Task {
  readonly type = 'ike-auth' as const;
  readonly exchangeType = ExchangeType.IKE_AUTH;
  private child: ChildSa | undefined;
  // responder
  private authError = false;
  private childError: number | undefined;
  private chosenProposal: import('../codec/types.js').Proposal | undefined;
  /** Set while the responder waits for a hook; the task manager waits for it. */
  pending: Promise<void> | undefined;
  private timedOut = false;

  constructor(
    private readonly sa: IkeSa,
    readonly initiator: boolean,
    private readonly options: IkeAuthOptions = {},
  ) {}

  build(m: Message): TaskStatus {
    return this.initiator ? this.buildI(m) : this.buildR(m);
  }

  process(m: Message): TaskStatus {
    return this.initiator ? this.processI(m) : this.processR(m);
  }

  private idPayload(kind: typeof PayloadType.IDi | typeof PayloadType.IDr, cfg: PeerConfig): IdPayload {
    const { idType, data } = identityPayload(cfg.localId);
    return { type: kind, idType, data };
  }

  /** Our AUTH: the PSK MAC or a signature over our side's signed octets. */
  private authPayload(cfg: PeerConfig, id: IdPayload): import('../codec/types.js').AuthPayload {
    const sa = this.sa;
    if (cfg.auth.method === 'cert') return signatureAuthPayload(sa, cfg.auth.credential!, id);
    const data = sa.initiator
      ? pskAuth(sa.prf!, cfg.auth.psk, sa.initRequest!, sa.nonceR!, sa.keys!.skPi, id)
      : pskAuth(sa.prf!, cfg.auth.psk, sa.initResponse!, sa.nonceI!, sa.keys!.skPr, id);
    return { type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data };
  }

  // ---- initiator -------------------------------------------------------------

  private buildI(m: Message): TaskStatus {
    const sa = this.sa;
    const cfg = sa.config!;
    const idi = this.idPayload(PayloadType.IDi, cfg);
    m.payloads.push(idi);
    if (this.options.initialContact) addNotify(m, NotifyType.INITIAL_CONTACT);
    if (cfg.auth.method === 'cert') m.payloads.push(...certPayloads(cfg.auth.credential!));
    m.payloads.push(...certReqPayload(cfg));
    if (cfg.remoteId) {
      const { idType, data } = identityPayload(cfg.remoteId);
      m.payloads.push({ type: PayloadType.IDr, idType, data });
    }
    m.payloads.push(this.authPayload(cfg, idi));
    this.child ??= sa.newChild();
    this.child.initiatedByUs = true;
    this.child.localTs = cfg.localTs;
    this.child.remoteTs = cfg.remoteTs;
    m.payloads.push({ type: PayloadType.SA, proposals: espProposals(cfg.espProposals, this.child.spiIn, false) });
    m.payloads.push({ type: PayloadType.TSi, selectors: cfg.localTs.map(tsToWire) });
    m.payloads.push({ type: PayloadType.TSr, selectors: cfg.remoteTs.map(tsToWire) });
    return 'success';
  }

  private processI(m: Message): TaskStatus {
    const sa = this.sa;
    const cfg = sa.config!;
    if (findNotify(m, NotifyType.AUTHENTICATION_FAILED)) {
      sa.count('auth-failed-by-peer');
      sa.ctx.events.emit('auth-failed', { ...sa.ref, side: 'remote', detail: 'peer answered AUTHENTICATION_FAILED' });
      this.dropChild();
      sa.fail('auth-failed', 'peer rejected our authentication (AUTHENTICATION_FAILED)');
      return 'failed';
    }
    const idr = first(m, PayloadType.IDr);
    const auth = first(m, PayloadType.AUTH);
    if (!idr || !auth) {
      const err = errorNotify(m);
      this.dropChild();
      sa.fail('protocol-error', `IKE_AUTH response without IDr/AUTH${err ? `: ${notifyTypeName(err.notifyType)}` : ''}`);
      return 'failed';
    }
    const identity = identityFromPayload(idr.idType, idr.data);
    const idOk = !cfg.remoteId || (identity !== undefined && identityEquals(identity, cfg.remoteId));
    let authDetail: string | undefined;
    let counter = 'auth-failed';
    if (cfg.auth.remoteMethod === 'cert') {
      const v = verifySignatureAuth(sa, m, cfg, idr, identity, auth);
      if (!v.ok) {
        authDetail = `responder certificate authentication failed: ${v.reason}`;
        counter = v.counter;
      }
    } else {
      const expected = pskAuth(sa.prf!, cfg.auth.remotePsk, sa.initResponse!, sa.nonceI!, sa.keys!.skPr, idr);
      if (auth.method !== AuthMethod.SHARED_KEY_MIC || !authEquals(auth.data, expected)) authDetail = 'responder AUTH does not verify with our pre-shared key';
    }
    if (authDetail !== undefined || !idOk) {
      sa.count(counter);
      const detail = !idOk ? `responder identity ${identity ? identityToString(identity) : '?'} is not the configured one` : authDetail!;
      sa.ctx.events.emit('auth-failed', { ...sa.ref, side: 'local', detail });
      this.dropChild();
      // Tell the responder, which considers the SA established (section 2.21.2).
      sa.tasks.sendOneShot(ExchangeType.INFORMATIONAL, [notifyPayload(NotifyType.AUTHENTICATION_FAILED)]);
      sa.fail('auth-failed', detail);
      return 'failed';
    }
    sa.remoteIdentity = identity;
    establish(sa);
    this.processChildI(m);
    return 'success';
  }

  private processChildI(m: Message): void {
    const sa = this.sa;
    const child = this.child!;
    const err = errorNotify(m);
    const saP = first(m, PayloadType.SA);
    if (err || !saP) {
      const detail = `first child SA refused: ${err ? notifyTypeName(err.notifyType) : 'no SA payload'}`;
      sa.lastError = detail;
      sa.count('child-refused');
      this.dropChild();
      return;
    }
    const choice = acceptEspChoice(saP.proposals, sa.config!.espProposals, undefined);
    const ts = readTs(m);
    if (!choice || !ts || !tsSubset(ts.tsi, child.localTs) || !tsSubset(ts.tsr, child.remoteTs)) {
      sa.lastError = 'first child SA: responder answered with a proposal or selectors we did not offer';
      sa.count('child-refused');
      this.dropChild();
      return;
    }
    child.suite = choice.suite;
    child.spiOut = choice.peerSpi;
    child.localTs = ts.tsi;
    child.remoteTs = ts.tsr;
    child.keys = sa.childKeys(choice.suite, sa.nonceI!, sa.nonceR!, true);
    sa.installChild(child);
  }

  private dropChild(): void {
    if (this.child) this.sa.discardChild(this.child);
    this.child = undefined;
  }

  abandon(): void {
    this.dropChild();
  }

  // ---- responder -------------------------------------------------------------

  private processR(m: Message): TaskStatus {
    let r: TaskStatus | Promise<TaskStatus>;
    try {
      r = this.respondR(m);
    } catch (e) {
      return this.refuse('auth-error', `IKE_AUTH processing failed: ${(e as Error).message}`);
    }
    if (!(r instanceof Promise)) return r;
    this.pending = r.then(
      () => undefined,
      (e: unknown) => {
        if (!this.timedOut) this.refuse('auth-hook-error', `IKE_AUTH hook failed: ${(e as Error)?.message ?? String(e)}`);
      },
    );
    return 'pending';
  }

  /** The task manager gave up waiting for a hook: the answer is AUTHENTICATION_FAILED. */
  onPendingTimeout(): void {
    this.timedOut = true;
    this.refuse('auth-hook-timeout', 'no answer from the responder hook in time (site lookup or authorisation)');
  }

  private refuse(counter: string, detail: string): TaskStatus {
    const sa = this.sa;
    this.authError = true;
    sa.count(counter);
    sa.lastError = detail;
    sa.ctx.events.emit('auth-failed', { ...sa.ref, side: 'local', detail });
    return 'failed';
  }

  /** Responder: find the config, verify AUTH, ask `authorize`, negotiate the child. Promise when a hook is async. */
  private respondR(m: Message): TaskStatus | Promise<TaskStatus> {
    const sa = this.sa;
    const idi = first(m, PayloadType.IDi);
    const auth = first(m, PayloadType.AUTH);
    if (!idi || !auth) {
      this.authError = true;
      sa.count('auth-malformed');
      return 'failed';
    }
    const identity = identityFromPayload(idi.idType, idi.data);
    const who = identity ? identityToString(identity) : 'unknown identity';
    // Only configs whose IKE proposals allow what IKE_SA_INIT negotiated.
    const suite = sa.suite!;
    const fits = (c: PeerConfig) =>
      c.ikeProposals.some((p) => p.prf.includes(suite.prf) && p.dh.includes(suite.dh) && p.encr.some((e) => e.id === suite.encr.id && (e.keyBits ?? 0) === (suite.encr.keyBits ?? 0)));
    const configured = sa.ctx.candidateConfigs(identity, sa.remote).filter(fits);
    const resolve = sa.ctx.hooks?.resolveResponderConfig;
    const candidates: PeerConfig[] | Promise<PeerConfig[]> =
      configured.length > 0 || !resolve ? configured : chain(resolve(identity, sa.remote), (c) => (c && fits(c) ? [c] : []));
    return chain(candidates, (list) => {
      if (this.timedOut || !sa.alive) return 'failed';
      if (list.length === 0) return this.refuse('no-peer-config', `no peer configured for ${who}`);
      let config: PeerConfig | undefined;
      let failure = { counter: 'auth-failed', detail: `AUTH of ${who} does not verify` };
      for (const c of list) {
        if (c.auth.remoteMethod === 'cert') {
          const v = verifySignatureAuth(sa, m, c, idi, identity, auth);
          if (v.ok) config = c;
          else failure = { counter: v.counter, detail: `certificate authentication of ${who} failed: ${v.reason}` };
        } else if (auth.method !== AuthMethod.SHARED_KEY_MIC) {
          failure = { counter: 'auth-method-unsupported', detail: `${who} used AUTH method ${auth.method}; peer ${c.name} expects a pre-shared key` };
        } else if (authEquals(auth.data, pskAuth(sa.prf!, c.auth.remotePsk, sa.initRequest!, sa.nonceR!, sa.keys!.skPi, idi))) config = c;
        if (config) break;
      }
      if (!config) return this.refuse(failure.counter, failure.detail);
      const cfg = config;
      sa.config = cfg;
      sa.remoteIdentity = identity;
      const authorize = sa.ctx.hooks?.authorize;
      const decision: AuthDecision | Promise<AuthDecision> = authorize
        ? authorize(sa, cfg, { identity, remoteTs: this.requestedRemoteTs(m, cfg), method: cfg.auth.remoteMethod })
        : { ok: true };
      return chain(decision, (d) => {
        if (this.timedOut || !sa.alive) return 'failed';
        if (!d.ok) return this.refuse('auth-refused', `${who} refused: ${d.reason}`);
        if (findNotify(m, NotifyType.INITIAL_CONTACT)) sa.ctx.onInitialContact(sa);
        this.processChildR(m, cfg);
        return 'success';
      });
    });
  }

  /** The initiator's networks it asks the first child for, narrowed to the config. */
  private requestedRemoteTs(m: Message, cfg: PeerConfig): TrafficSelector[] {
    const ts = readTs(m);
    return ts ? narrowTs(ts.tsi, cfg.remoteTs) : [];
  }

  private processChildR(m: Message, cfg: PeerConfig): void {
    const sa = this.sa;
    const saP = first(m, PayloadType.SA);
    const ts = readTs(m);
    if (!saP || !ts) {
      this.childError = NotifyType.INVALID_SYNTAX;
      return;
    }
    const choice = chooseEsp(saP.proposals, cfg.espProposals, undefined);
    if (!choice) {
      this.childError = NotifyType.NO_PROPOSAL_CHOSEN;
      sa.count('child-no-proposal');
      return;
    }
    const tsi = narrowTs(ts.tsi, cfg.remoteTs);
    const tsr = narrowTs(ts.tsr, cfg.localTs);
    if (tsi.length === 0 || tsr.length === 0) {
      this.childError = NotifyType.TS_UNACCEPTABLE;
      sa.count('ts-unacceptable');
      return;
    }
    const child = sa.newChild();
    child.suite = choice.suite;
    child.spiOut = choice.peerSpi;
    child.localTs = tsr;
    child.remoteTs = tsi;
    child.keys = sa.childKeys(choice.suite, sa.nonceI!, sa.nonceR!, false);
    this.child = child;
    this.chosenProposal = { ...choice.proposal, spi: spiBytes(child.spiIn) };
  }

  private buildR(m: Message): TaskStatus {
    const sa = this.sa;
    if (this.authError) {
      addNotify(m, NotifyType.AUTHENTICATION_FAILED);
      return 'failed';
    }
    const cfg = sa.config!;
    const idr = this.idPayload(PayloadType.IDr, cfg);
    m.payloads.push(idr);
    if (cfg.auth.method === 'cert') m.payloads.push(...certPayloads(cfg.auth.credential!));
    m.payloads.push(this.authPayload(cfg, idr));
    establish(sa);
    if (this.child && this.chosenProposal) {
      m.payloads.push({ type: PayloadType.SA, proposals: [this.chosenProposal] });
      m.payloads.push({ type: PayloadType.TSi, selectors: this.child.remoteTs.map(tsToWire) });
      m.payloads.push({ type: PayloadType.TSr, selectors: this.child.localTs.map(tsToWire) });
      sa.installChild(this.child);
    } else {
      addNotify(m, this.childError ?? NotifyType.NO_PROPOSAL_CHOSEN);
      sa.lastError = `first child SA refused: ${notifyTypeName(this.childError ?? NotifyType.NO_PROPOSAL_CHOSEN)}`;
    }
    return 'success';
  }

  /** Responder: after AUTHENTICATION_FAILED went out, the SA is forgotten. */
  completed(): void {
    if (!this.initiator && this.authError && this.sa.alive) this.sa.destroy('auth-failed', this.sa.lastError ?? 'authentication failed');
  }
}

function spiBytes(spi: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, spi >>> 0);
  return b;
}

/** The TSi/TSr of a message as text selectors; undefined when missing or unusable. */
export function readTs(m: Message): { tsi: TrafficSelector[]; tsr: TrafficSelector[] } | undefined {
  const tsiP = first(m, PayloadType.TSi);
  const tsrP = first(m, PayloadType.TSr);
  if (!tsiP || !tsrP) return undefined;
  const tsi = tsiP.selectors.map(tsFromWire).filter((t): t is TrafficSelector => t !== undefined);
  const tsr = tsrP.selectors.map(tsFromWire).filter((t): t is TrafficSelector => t !== undefined);
  if (tsi.length === 0 || tsr.length === 0) return undefined;
  return { tsi, tsr };
}

/** The IKE SA is authenticated: state, timers, event. */
export function establish(sa: IkeSa): void {
  sa.setState('established');
  sa.establishedAt = sa.ctx.clock.now();
  sa.upSince ??= sa.establishedAt;
  sa.startTimers();
  sa.ctx.events.emit('ike-up', {
    ...sa.ref,
    local: `${sa.local.address}:${sa.local.port}`,
    remote: `${sa.remote.address}:${sa.remote.port}`,
    proposal: sa.describeSuite(),
    natLocal: sa.natLocal,
    natRemote: sa.natRemote,
  });
  sa.ctx.onEstablished(sa);
}
