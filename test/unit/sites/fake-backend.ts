/**
 * A site directory backend for manager tests: a MemorySiteBackend behind a switch that
 * makes lookups answer, hang (never settle), fail, or wait for the test to release them.
 */
import type { BackendHealth, SiteDirectoryBackend } from '../../../src/engine/sites/backend.js';
import { MemorySiteBackend } from '../../../src/engine/sites/memory-backend.js';
import { validateSiteRecord, type DirectoryMasks, type Site, type SiteRecord } from '../../../src/engine/sites/site.js';

export type FakeMode = 'ok' | 'hang' | 'fail' | 'manual';

export class FakeBackend implements SiteDirectoryBackend {
  readonly kind = 'memory' as const;
  readonly inner: MemorySiteBackend;
  mode: FakeMode = 'ok';
  calls = { network: 0, identity: 0, get: 0, health: 0 };
  /** Lookups held in 'manual' mode, released by release(). */
  private held: (() => void)[] = [];

  constructor(readonly masks: DirectoryMasks = { v4: 24 }) {
    this.inner = new MemorySiteBackend(masks, () => 1_700_000_000_000);
  }

  async add(record: SiteRecord): Promise<Site> {
    const v = validateSiteRecord(record, this.masks);
    if ('problems' in v) throw new Error(JSON.stringify(v.problems));
    return this.inner.put(v.site);
  }

  private gate<T>(fn: () => Promise<T>): Promise<T> {
    switch (this.mode) {
      case 'ok':
        return fn();
      case 'hang':
        return new Promise<T>(() => {});
      case 'fail':
        return Promise.reject(new Error('connection refused'));
      case 'manual':
        return new Promise<T>((resolve, reject) => this.held.push(() => fn().then(resolve, reject)));
    }
  }

  /** Lets the held lookups run (in arrival order). */
  release(): number {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
    return h.length;
  }

  get heldCount(): number {
    return this.held.length;
  }

  lookupByNetwork(network: Uint8Array) {
    this.calls.network++;
    return this.gate(() => this.inner.lookupByNetwork(network));
  }
  lookupByIdentity(id: Parameters<SiteDirectoryBackend['lookupByIdentity']>[0]) {
    this.calls.identity++;
    return this.gate(() => this.inner.lookupByIdentity(id));
  }
  get(name: string) {
    this.calls.get++;
    return this.gate(() => this.inner.get(name));
  }
  put(s: Parameters<SiteDirectoryBackend['put']>[0]) {
    return this.inner.put(s);
  }
  delete(name: string) {
    return this.inner.delete(name);
  }
  list(o?: Parameters<SiteDirectoryBackend['list']>[0]) {
    return this.inner.list(o);
  }
  count() {
    return this.inner.count();
  }
  bulkImport(...a: Parameters<SiteDirectoryBackend['bulkImport']>) {
    return this.inner.bulkImport(...a);
  }
  health(): Promise<BackendHealth> {
    this.calls.health++;
    return this.gate(() => this.inner.health());
  }
  close() {
    return this.inner.close();
  }
}

/** A valid site row for network 10.<b>.<c>.0/24 (index i -> b = i >> 8, c = i & 255). */
export function siteRecord(i: number, extra: SiteRecord = {}): SiteRecord {
  return {
    name: `site-${i}`,
    identity: `fqdn:site-${i}.example.net`,
    gateway: `gw-${i}.example.net`,
    network: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
    psk: `secret-psk-${i}`,
    ...extra,
  };
}

/** An address inside site i's network. */
export function siteAddress(i: number, host = 7): Uint8Array {
  return Uint8Array.from([10, (i >> 8) & 255, i & 255, host]);
}

/** Lets pending promise callbacks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
