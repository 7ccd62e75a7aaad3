/**
 * The responder of INFORMATIONAL requests (RFC 7296 section 1.4):
 *  - HDR, SK { D(IKE) }          -->  <--  HDR, SK { }            the SA is gone afterwards
 *  - HDR, SK { D(ESP, SPIs...) } -->  <--  HDR, SK { D(ESP, ours) }
 *  - HDR, SK { }                 -->  <--  HDR, SK { }            liveness check
 *  - notifies: error notifies are recorded as the SA's last error.
 */
import { ExchangeType, PayloadType, ProtocolId, isErrorNotify, notifyTypeName } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { ChildSa } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { all } from '../message.js';
import { spiFromBytes, spiToBytes } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';

export class InformationalResponder implements Task {
  readonly type = 'informational' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = false;
  private deleteIke = false;
  private deleteChildren: ChildSa[] = [];

  constructor(private readonly sa: IkeSa) {}

  process(m: Message): TaskStatus {
    const sa = this.sa;
    for (const d of all(m, PayloadType.D)) {
      if (d.protocolId === ProtocolId.IKE) this.deleteIke = true;
      else if (d.protocolId === ProtocolId.ESP) {
        for (const spi of d.spis) {
          const c = spi.length === 4 ? sa.childByOutSpi(spiFromBytes(spi)) : undefined;
          if (c && !this.deleteChildren.includes(c)) this.deleteChildren.push(c);
          else if (!c) sa.count('delete-unknown-spi');
        }
      }
    }
    for (const n of all(m, PayloadType.N)) {
      if (isErrorNotify(n.notifyType)) sa.lastError = `peer sent ${notifyTypeName(n.notifyType)}`;
    }
    if (m.payloads.length === 0) sa.count('dpd-answered');
    return 'success';
  }

  build(m: Message): TaskStatus {
    if (this.deleteIke) return 'success';
    if (this.deleteChildren.length > 0) {
      m.payloads.push({ type: PayloadType.D, protocolId: ProtocolId.ESP, spis: this.deleteChildren.map((c) => spiToBytes(c.spiIn)) });
      for (const c of this.deleteChildren) {
        if (c.state === 'deleted') continue;
        this.sa.removeChild(c, c.state === 'rekeyed' || c.replacedBy ? 'rekeyed' : 'deleted-by-peer');
      }
    }
    return 'success';
  }

  completed(): void {
    const sa = this.sa;
    if (this.deleteIke && sa.alive) sa.destroy(sa.state === 'rekeyed' ? 'rekeyed' : 'deleted-by-peer');
  }
}
