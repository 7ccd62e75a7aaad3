/**
 * The running configuration, its last committed revisions, and the file they live in.
 *
 * A commit: integrity check of the whole new config -> typed diff -> every subscriber's
 * `prepare` (any may refuse; then nothing changes) -> atomic write of the file (mode 0600) ->
 * the new config becomes running -> subscribers' `apply`. Commits are serialised.
 * `commit confirmed N` arms a timer on the Clock; unless confirmed in time, the previous
 * revision is committed back. A file left with an unconfirmed commit (crash, restart) is rolled
 * back when it is opened.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import type { Clock, Timer } from '../engine/clock.js';
import { CommitRejectedError, ConfigFileError, NotFoundError } from './errors.js';
import { applyChanges, diffConfigs, invertChanges, type ConfigChange } from './diff.js';
import { checkLoadedConfig, integrityProblems } from './validate.js';
import { cloneConfig, defaultConfig, type ConfigData, type Schema } from './tree.js';

export const CONFIG_FILE_NAME = 'config.json';
export const FILE_FORMAT = 'meshgate-config';
export const FILE_VERSION = 1;
export const MAX_REVISIONS = 50;

export type ConfirmState = 'yes' | 'pending' | 'rolled-back';

export interface RevisionInfo {
  /** Monotonic commit number. */
  seq: number;
  time: string;
  user: string;
  comment: string;
  confirmed: ConfirmState;
}

/** A revision with its full config (rebuilt on demand from the running config and the undo lists). */
export interface Revision extends RevisionInfo {
  config: ConfigData;
}

/**
 * How revisions are kept, in memory and in the file: the running config in full, and for each
 * revision the changes that turn it into the one before it (reverse deltas), so that a commit
 * of one row to a 10,000-row table writes one row of history, not 50 copies of the table.
 */
interface StoredRevision extends RevisionInfo {
  undo: ConfigChange[];
}

/** What subscribers receive. `before`/`after` are read-only snapshots; do not mutate them. */
export interface ConfigChangeSet {
  changes: readonly ConfigChange[];
  before: Readonly<ConfigData>;
  after: Readonly<ConfigData>;
  user: string;
  comment: string;
  /** The commit number this change becomes (or became). */
  seq: number;
}

/**
 * A config subscriber (the engine). `prepare` checks a change and throws to refuse it (no side
 * effects); `apply` acts on it after it was committed and persisted (a throw there is logged,
 * the commit stands).
 */
export interface ConfigSubscriber {
  prepare?(set: ConfigChangeSet): void | Promise<void>;
  apply?(set: ConfigChangeSet): void | Promise<void>;
}

export interface CommitOptions {
  user: string;
  comment?: string;
  /** Minutes until an automatic rollback unless confirmed. */
  confirmMinutes?: number;
}

export interface CommitResult {
  changes: readonly ConfigChange[];
  seq: number;
  /** False when there was nothing to commit. */
  committed: boolean;
}

interface FileShape {
  format: string;
  version: number;
  running: ConfigData;
  revisions: StoredRevision[];
  pendingConfirm?: { seq: number; deadline: string } | null;
}

export interface StoreEvents {
  log(topic: string, text: string): void;
}

export class ConfigStore {
  private runningConfig: ConfigData;
  private revs: StoredRevision[];
  private readonly conf: Conf<Record<string, unknown>>;
  private chain: Promise<unknown> = Promise.resolve();
  private subscribers: ConfigSubscriber[] = [];
  private confirmTimer: Timer | undefined;
  private pending: { seq: number; deadline: Date } | undefined;
  private seq: number;

  private constructor(
    readonly schema: Schema,
    readonly file: string,
    private readonly clock: Clock,
    private readonly events: StoreEvents,
    loaded: FileShape | undefined,
    initial: ConfigData,
  ) {
    this.conf = new Conf<Record<string, unknown>>({
      cwd: join(file, '..'),
      configName: CONFIG_FILE_NAME.replace(/\.json$/, ''),
      fileExtension: 'json',
      configFileMode: 0o600,
      projectName: 'meshgate',
      serialize: (v) => JSON.stringify(v),
    });
    if (loaded) {
      this.runningConfig = loaded.running;
      this.revs = loaded.revisions;
      this.seq = Math.max(0, ...this.revs.map((r) => r.seq));
    } else {
      this.runningConfig = initial;
      this.seq = 1;
      this.revs = [{ seq: 1, time: clock.wallTime().toISOString(), user: 'system', comment: 'initial configuration', confirmed: 'yes', undo: [] }];
      this.persist();
    }
  }

  /**
   * Loads `configDir/config.json` or creates it with defaults. A file that is not valid JSON, not
   * ours, or does not fit the schema is refused with ConfigFileError and never written.
   */
  static open(opts: { configDir: string; schema: Schema; clock: Clock; events: StoreEvents; initialValues?: Record<string, string> }): ConfigStore {
    mkdirSync(opts.configDir, { recursive: true, mode: 0o700 });
    const file = join(opts.configDir, CONFIG_FILE_NAME);
    let loaded: FileShape | undefined;
    if (existsSync(file)) loaded = ConfigStore.readFile(file, opts.schema);
    const store = new ConfigStore(opts.schema, file, opts.clock, opts.events, loaded, defaultConfig(opts.schema, opts.initialValues));
    if (loaded?.pendingConfirm) {
      try {
        store.recoverPendingConfirm();
      } catch (err) {
        throw new ConfigFileError(file, `an unconfirmed commit could not be rolled back (${(err as Error).message})`, { cause: err });
      }
    }
    chmodSync(file, 0o600);
    return store;
  }

  private static readFile(file: string, schema: Schema): FileShape {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigFileError(file, `cannot be read (${(err as Error).message})`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigFileError(file, `not valid JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigFileError(file, 'not a meshgate config (not an object)');
    const r = raw as Record<string, unknown>;
    if (r['format'] !== FILE_FORMAT) throw new ConfigFileError(file, `not a meshgate config (format is ${JSON.stringify(r['format'])})`);
    if (r['version'] !== FILE_VERSION) throw new ConfigFileError(file, `unsupported version ${JSON.stringify(r['version'])}`);
    const running = checkLoadedConfig(schema, r['running']);
    if (!running.data) throw new ConfigFileError(file, `schema violation: ${summarise(running.problems)}`);
    if (!Array.isArray(r['revisions']) || r['revisions'].length === 0) throw new ConfigFileError(file, 'revisions missing');
    const revisions: StoredRevision[] = [];
    for (const [i, rv] of (r['revisions'] as unknown[]).entries()) {
      if (typeof rv !== 'object' || rv === null) throw new ConfigFileError(file, `revision ${i} is not an object`);
      const o = rv as Record<string, unknown>;
      if (typeof o['seq'] !== 'number' || typeof o['time'] !== 'string' || typeof o['user'] !== 'string' || typeof o['comment'] !== 'string')
        throw new ConfigFileError(file, `revision ${i}: malformed`);
      const confirmed = o['confirmed'];
      if (confirmed !== 'yes' && confirmed !== 'pending' && confirmed !== 'rolled-back') throw new ConfigFileError(file, `revision ${i}: malformed`);
      const bad = changeListProblem(schema, o['undo']);
      if (bad) throw new ConfigFileError(file, `revision ${i}: ${bad}`);
      revisions.push({ seq: o['seq'], time: o['time'], user: o['user'], comment: o['comment'], confirmed, undo: o['undo'] as ConfigChange[] });
    }
    const pc = r['pendingConfirm'];
    let pendingConfirm: FileShape['pendingConfirm'] = null;
    if (pc !== undefined && pc !== null) {
      const p = pc as Record<string, unknown>;
      if (typeof p['seq'] !== 'number' || typeof p['deadline'] !== 'string') throw new ConfigFileError(file, 'pendingConfirm malformed');
      pendingConfirm = { seq: p['seq'], deadline: p['deadline'] };
    }
    return { format: FILE_FORMAT, version: FILE_VERSION, running: running.data, revisions: revisions.slice(0, MAX_REVISIONS), pendingConfirm };
  }

  /** The running config. Read-only: clone it (cloneConfig) to edit. */
  running(): Readonly<ConfigData> {
    return this.runningConfig;
  }

  /** The number of the running commit. */
  runningSeq(): number {
    return this.revs[0]!.seq;
  }

  /** Committed revisions, newest (the running one) first. */
  revisions(): readonly RevisionInfo[] {
    return this.revs.map(({ undo: _undo, ...info }) => info);
  }

  /** Revision n (0 = running, 1 = previous, ...) with its full config. */
  revision(n: number): Revision {
    const r = Number.isInteger(n) && n >= 0 ? this.revs[n] : undefined;
    if (!r) throw new NotFoundError(`no revision ${n} (0..${this.revs.length - 1})`);
    const config = cloneConfig(this.runningConfig);
    for (let i = 0; i < n; i++) {
      const conflicts = applyChanges(this.schema, config, this.revs[i]!.undo);
      if (conflicts.length) throw new NotFoundError(`revision ${n} cannot be rebuilt from the history (${conflicts[0]})`);
    }
    const { undo: _undo, ...info } = r;
    return { ...info, config };
  }

  pendingConfirm(): { seq: number; deadline: Date } | undefined {
    return this.pending;
  }

  subscribe(sub: ConfigSubscriber): () => void {
    this.subscribers.push(sub);
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== sub);
    };
  }

  /** Runs fn after every earlier commit has finished (commits never interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Commits `next` (a full config) as the new running config. With `baseSeq`, `next` was edited
   * from that revision; if others committed since, the edits are rebased (see Router).
   */
  commit(next: ConfigData, opts: CommitOptions): Promise<CommitResult> {
    return this.serial(() => this.commitNow(next, opts));
  }

  /** Runs fn inside the commit queue: fn sees a stable running config and may call commitNow-style logic through the returned commit. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(fn);
  }

  /** Commit without queueing: only from inside withLock. */
  async commitNow(next: ConfigData, opts: CommitOptions): Promise<CommitResult> {
    const before = this.runningConfig;
    const changes = diffConfigs(this.schema, before, next);
    if (changes.length === 0 && opts.confirmMinutes === undefined) return { changes, seq: this.runningSeq(), committed: false };
    const problems = integrityProblems(this.schema, next);
    if (problems.length) throw new CommitRejectedError(`commit refused: ${summarise(problems)}`);
    const seq = this.seq + 1;
    const set: ConfigChangeSet = { changes, before, after: next, user: opts.user, comment: opts.comment ?? '', seq };
    for (const s of this.subscribers) {
      if (!s.prepare) continue;
      try {
        await s.prepare(set);
      } catch (err) {
        throw new CommitRejectedError(`commit refused: ${(err as Error).message}`, { cause: err });
      }
    }
    const confirmMinutes = opts.confirmMinutes;
    const rev: StoredRevision = {
      seq,
      time: this.clock.wallTime().toISOString(),
      user: opts.user,
      comment: opts.comment ?? '',
      confirmed: confirmMinutes !== undefined ? 'pending' : 'yes',
      undo: invertChanges(changes),
    };
    const prevRevs = this.revs;
    const prevPending = this.pending;
    this.seq = seq;
    this.runningConfig = next;
    this.revs = trim([rev, ...prevRevs.map((r) => ({ ...r }))]);
    // A new commit while another one waits for confirmation confirms the earlier one (Junos).
    if (prevPending && prevRevs[0]?.confirmed === 'pending' && confirmMinutes === undefined) this.markConfirmed();
    if (confirmMinutes !== undefined) {
      this.confirmTimer?.cancel();
      const deadline = new Date(this.clock.wallTime().getTime() + confirmMinutes * 60_000);
      this.pending = { seq, deadline };
      this.confirmTimer = this.clock.setTimer(confirmMinutes * 60_000, () => void this.expireConfirm(seq));
    }
    try {
      this.persist();
    } catch (err) {
      this.runningConfig = before;
      this.revs = prevRevs;
      this.pending = prevPending;
      this.seq = seq - 1;
      throw new CommitRejectedError(`commit refused: the config file could not be written (${(err as Error).message})`, { cause: err });
    }
    this.events.log('config', `commit ${seq} by ${opts.user}: ${changes.length} change(s)${opts.comment ? ` "${opts.comment}"` : ''}${confirmMinutes !== undefined ? `, confirm within ${confirmMinutes} min` : ''}`);
    for (const s of this.subscribers) {
      if (!s.apply) continue;
      try {
        await s.apply(set);
      } catch (err) {
        this.events.log('config', `apply of commit ${seq} failed in a subscriber: ${(err as Error).message}`);
      }
    }
    return { changes, seq, committed: true };
  }

  /** Confirms a pending `commit confirmed`. Returns false when none was pending. */
  confirm(user: string): boolean {
    if (!this.pending) return false;
    this.markConfirmed();
    this.persist();
    this.events.log('config', `commit ${this.revs[0]!.seq} confirmed by ${user}`);
    return true;
  }

  private markConfirmed(): void {
    this.confirmTimer?.cancel();
    this.confirmTimer = undefined;
    const r = this.revs.find((x) => x.seq === this.pending?.seq);
    if (r) r.confirmed = 'yes';
    this.pending = undefined;
  }

  private async expireConfirm(seq: number): Promise<void> {
    await this.serial(async () => {
      if (!this.pending || this.pending.seq !== seq) return;
      const idx = this.revs.findIndex((r) => r.seq === seq);
      this.pending = undefined;
      this.confirmTimer = undefined;
      if (idx < 0 || !this.revs[idx + 1]) return;
      const prev = this.revision(idx + 1);
      this.revs[idx]!.confirmed = 'rolled-back';
      this.events.log('config', `commit ${seq} was not confirmed in time: rolling back to commit ${prev.seq}`);
      try {
        await this.commitNow(prev.config, { user: 'system', comment: `automatic rollback: commit ${seq} not confirmed` });
      } catch (err) {
        this.events.log('config', `automatic rollback failed: ${(err as Error).message}`);
        this.persist();
      }
    });
  }

  /** At open: a commit that was never confirmed before the process ended is rolled back. */
  private recoverPendingConfirm(): void {
    const top = this.revs[0]!;
    if (top.confirmed !== 'pending' || !this.revs[1]) {
      this.persist();
      return;
    }
    const prev = this.revision(1);
    top.confirmed = 'rolled-back';
    this.seq += 1;
    const undo = invertChanges(diffConfigs(this.schema, this.runningConfig, prev.config));
    this.runningConfig = prev.config;
    const rollback: StoredRevision = { seq: this.seq, time: this.clock.wallTime().toISOString(), user: 'system', comment: `automatic rollback at start: commit ${top.seq} was not confirmed`, confirmed: 'yes', undo };
    this.revs = trim([rollback, ...this.revs]);
    this.persist();
    this.events.log('config', `commit ${top.seq} was not confirmed before the restart: rolled back to commit ${prev.seq}`);
  }

  private persist(): void {
    const data: FileShape = {
      format: FILE_FORMAT,
      version: FILE_VERSION,
      running: this.runningConfig,
      revisions: this.revs,
      pendingConfirm: this.pending ? { seq: this.pending.seq, deadline: this.pending.deadline.toISOString() } : null,
    };
    // conf keeps its own `__internal__` key; giving it one spares conf re-reading and parsing
    // the whole file before every write.
    this.conf.store = { ...data, __internal__: {} } as unknown as Record<string, unknown>;
  }

  close(): void {
    this.confirmTimer?.cancel();
    this.confirmTimer = undefined;
  }
}

/** Keeps the newest MAX_REVISIONS; the oldest kept one needs no undo list. */
function trim(revs: StoredRevision[]): StoredRevision[] {
  if (revs.length <= MAX_REVISIONS) return revs;
  const kept = revs.slice(0, MAX_REVISIONS);
  kept[kept.length - 1] = { ...kept[kept.length - 1]!, undo: [] };
  return kept;
}

/** Checks the shape of a stored change list (paths, columns, strings); undefined when sound. */
function changeListProblem(schema: Schema, raw: unknown): string | undefined {
  if (!Array.isArray(raw)) return 'undo list missing';
  const isRow = (t: { columns: readonly { name: string }[] }, r: unknown) =>
    typeof r === 'object' && r !== null && !Array.isArray(r) && Object.entries(r).every(([k, v]) => typeof v === 'string' && t.columns.some((c) => c.name === k));
  for (const [i, c] of raw.entries()) {
    if (typeof c !== 'object' || c === null) return `change ${i} malformed`;
    const ch = c as Record<string, unknown>;
    if (ch['kind'] === 'param') {
      if (typeof ch['path'] !== 'string' || !schema.params.has(ch['path']) || typeof ch['old'] !== 'string' || typeof ch['new'] !== 'string') return `change ${i} malformed`;
      continue;
    }
    const t = typeof ch['table'] === 'string' ? schema.tables.get(ch['table']) : undefined;
    if (!t || !Array.isArray(ch['key']) || !ch['key'].every((k) => typeof k === 'string')) return `change ${i} malformed`;
    if (ch['kind'] === 'row-added' || ch['kind'] === 'row-removed') {
      if (!isRow(t, ch['row']) || typeof ch['index'] !== 'number') return `change ${i} malformed`;
    } else if (ch['kind'] === 'row-changed') {
      if (!isRow(t, ch['old']) || !isRow(t, ch['new']) || !Array.isArray(ch['columns'])) return `change ${i} malformed`;
    } else return `change ${i}: unknown kind`;
  }
  return undefined;
}

function summarise(problems: readonly string[]): string {
  const head = problems.slice(0, 5).join('; ');
  return problems.length > 5 ? `${head}; and ${problems.length - 5} more` : head;
}
