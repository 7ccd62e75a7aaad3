/** Which task answers a request (strongSwan's passive tasks, chosen by exchange and payloads). */
import { ExchangeType, PayloadType, ProtocolId } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import { first } from '../message.js';
import type { Task } from '../task.js';
import { ChildCreateTask } from './child-create.js';
import { IkeAuthTask } from './ike-auth.js';
import { IkeInitTask } from './ike-init.js';
import { IkeRekeyTask } from './ike-rekey.js';
import { InformationalResponder } from './informational.js';

export function createResponderTask(sa: IkeSa, m: Message): Task {
  switch (m.exchangeType) {
    case ExchangeType.IKE_SA_INIT:
      return new IkeInitTask(sa, false);
    case ExchangeType.IKE_AUTH:
      return new IkeAuthTask(sa, false);
    case ExchangeType.CREATE_CHILD_SA: {
      const saP = first(m, PayloadType.SA);
      if (saP && saP.proposals[0]?.protocolId === ProtocolId.IKE) return new IkeRekeyTask(sa, false);
      return new ChildCreateTask(sa, false);
    }
    default:
      return new InformationalResponder(sa);
  }
}
