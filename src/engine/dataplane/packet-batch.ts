/**
 * A batch of packets in one shared buffer, the unit in which LAN ports deliver what they
 * receive (wireguard-go's `Read(bufs, sizes, offset)` in one allocation). Packet i is
 * `data[offsets[i] .. offsets[i] + lengths[i])`. Each packet has `headroom` writable bytes
 * in front of it (offsets[i] >= headroom), so an ESP/UDP header can later be built in place.
 *
 * A batch is only valid during the receive callback: the port reuses the storage for the
 * next batch. Copy a packet out if it must outlive the callback.
 */
export interface PacketBatch {
  readonly data: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  /** Headroom before every packet, in bytes. */
  readonly headroom: number;
  /** Number of valid packets in this batch. */
  count: number;
}

/** Handler of received batches; it must be done with the packets when it returns. */
export type BatchHandler = (batch: PacketBatch) => void;

/** A view of packet i (allocates a view object: for tests and slow paths). */
export function packetAt(batch: PacketBatch, i: number): Uint8Array {
  if (i < 0 || i >= batch.count) throw new RangeError(`packet ${i} outside batch of ${batch.count}`);
  const off = batch.offsets[i]!;
  return batch.data.subarray(off, off + batch.lengths[i]!);
}

/** Allocates a batch with `slots` slots of `slotSize` bytes, packets starting at `headroom`. */
export function allocateBatch(slots: number, slotSize: number, headroom: number): PacketBatch {
  const offsets = new Uint32Array(slots);
  for (let i = 0; i < slots; i++) offsets[i] = i * slotSize + headroom;
  return { data: new Uint8Array(slots * slotSize), offsets, lengths: new Uint32Array(slots), headroom, count: 0 };
}
