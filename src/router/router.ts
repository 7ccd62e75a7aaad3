/**
 * The Router: one per node. Owns the config store, the registries through which modules plug
 * in (show topics, status views, actions, trace topics, config subscribers), the event log, and
 * the list of shell sessions. It does not know the engine: the engine attaches later through
 * these registries and onConfigChange.
 */
import { PRODUCT, VERSION } from '../version.js';
import { RealClock, type Clock } from '../engine/clock.js';
import type { Cell, OutputBlock } from '../shell/session-api.js';
import { MeshgateError } from '../errors.js';
import {
  applyChanges,
  cloneConfig,
  CommitRejectedError,
  ConfigStore,
  NotFoundError,
  configScript,
  diffConfigs,
  getSchema,
  maskSecret,
  verifyPassword, verifyPasswordAsync,
  type CommitResult,
  type ConfigChangeSet,
  type ConfigData,
  type ConfigSubscriber,
  type Revision,
  type RevisionInfo,
  type Schema,
} from '../config/index.js';
import { ACTION_OWNERS, STATUS_VIEW_OWNERS, licenceProfile, type StatusNode } from '../../menus/index.js';
import { certificateShow } from './pki-show.js';
import { pkiActions } from './pki-actions.js';

export type Access = 'admin' | 'read-only';

/** Who asks: passed to show providers and action handlers. */
export interface RequestContext {
  user: string;
  access: Access;
  /** Aborted when the user presses Ctrl-C or the session ends. */
  signal?: AbortSignal;
  /** Resolves a menu path as the shell does (relative to the session's path, abbreviations allowed); throws NotFoundError / AmbiguousError. */
  resolvePath?(input: string): string;
}

/** A `show` topic: `show <name> [args...]`. */
export interface ShowProvider {
  help: string;
  run(args: readonly string[], ctx: RequestContext): OutputBlock[] | Promise<OutputBlock[]>;
  /** Completion of the topic's arguments (optional). */
  complete?(args: readonly string[]): readonly string[];
}

/** What a status view provider returns: rows for 'table' views, KEY -> value for 'pairs' views. */
export type StatusViewData = { rows: Cell[][] } | { pairs: Record<string, Cell> };
export type StatusViewProvider = () => StatusViewData;

/** An action handler (`do /Other/...`). `args` by the names declared in menus/other.ts, already validated. */
export type ActionHandler = (
  args: Readonly<Record<string, string>>,
  ctx: RequestContext,
) => OutputBlock[] | void | Promise<OutputBlock[] | void>;

export interface ToolProvider {
  run(args: readonly string[], ctx: RequestContext, write: (b: OutputBlock) => void): Promise<void>;
}

export interface EventRecord {
  time: Date;
  topic: string;
  text: string;
}

export interface SessionInfo {
  id: number;
  user: string;
  access: Access;
  since: Date;
  /** Filled by the session: has uncommitted changes. */
  dirty: () => boolean;
}

export interface UserInfo {
  name: string;
  active: boolean;
  access: Access;
  /** OpenSSH public key lines. */
  authorizedKeys: string[];
  hasPassword: boolean;
}

export class RouterError extends MeshgateError {
  static override readonly name = 'RouterError';
}

export interface RouterOptions {
  configDir: string;
  clock?: Clock;
  /** Device name for a new config (default 'meshgate'); an existing config keeps its name. */
  name?: string;
  /** Size of the event log ring buffer (default 1000). */
  eventLogSize?: number;
}

export class Router {
  readonly schema: Schema;
  readonly clock: Clock;
  readonly configDir: string;
  private readonly store: ConfigStore;
  private readonly shows = new Map<string, ShowProvider>();
  private readonly views = new Map<string, StatusViewProvider>();
  private readonly actions = new Map<string, ActionHandler>();
  private readonly tools = new Map<string, ToolProvider>();
  private readonly traceTopics = new Map<string, string>();
  private readonly traceSubs = new Map<string, Set<(e: EventRecord) => void>>();
  private readonly traceActivity = new Map<string, Set<(active: boolean) => void>>();
  private readonly eventLog: EventRecord[] = [];
  private readonly eventLogSize: number;
  private readonly sessionList = new Map<number, SessionInfo>();
  private nextSession = 1;
  private readonly startedAt: Date;
  private readonly startedMono: number;
  private closed = false;

  private constructor(opts: RouterOptions, schema: Schema, clock: Clock) {
    this.schema = schema;
    this.clock = clock;
    this.configDir = opts.configDir;
    this.eventLogSize = opts.eventLogSize ?? 1000;
    this.startedAt = clock.wallTime();
    this.startedMono = clock.now();
    for (const [t, h] of [
      ['config', 'Commits, confirmations and rollbacks'],
      ['shell', 'Logins, logouts and refused commands'],
      ['system', 'Start, stop and reboot'],
    ] as const)
      this.traceTopics.set(t, h);
    this.store = ConfigStore.open({
      configDir: opts.configDir,
      schema,
      clock,
      events: { log: (topic, text) => this.log(topic, text) },
      initialValues: opts.name ? { '/Setup/Name': opts.name } : {},
    });
    this.registerBuiltins();
  }

  /** Loads the config from `configDir` (or creates it). A corrupt file: ConfigFileError, file untouched. */
  static async open(opts: RouterOptions): Promise<Router> {
    const r = new Router(opts, getSchema(), opts.clock ?? new RealClock());
    r.log('system', `${PRODUCT} ${VERSION} started, config ${r.store.file}`);
    return r;
  }

  /** Stops timers (a pending `commit confirmed` stays pending in the file: it is rolled back at the next start). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  // ---- configuration ---------------------------------------------------------------------

  /** The device name (/Setup/Name). */
  get name(): string {
    return this.store.running().values['/Setup/Name'] ?? 'meshgate';
  }

  /** The path of the config file. */
  get configFile(): string {
    return this.store.file;
  }

  /** The running config (read-only; cloneConfig() it to edit). */
  running(): Readonly<ConfigData> {
    return this.store.running();
  }

  /** A parameter's running value, by absolute path. */
  get(path: string): string | undefined {
    return this.store.running().values[path];
  }

  /** The running commit number; a candidate remembers it as its base. */
  runningSeq(): number {
    return this.store.runningSeq();
  }

  revisions(): readonly RevisionInfo[] {
    return this.store.revisions();
  }

  revision(n: number): Revision {
    return this.store.revision(n);
  }

  pendingConfirm(): { seq: number; deadline: Date } | undefined {
    return this.store.pendingConfirm();
  }

  /**
   * Subscribes to committed changes. An object gets `prepare` (throw to refuse; nothing is
   * committed) and `apply` (after the commit was persisted). A plain function is a `prepare`
   * that may also act: it runs before persistence, and throwing refuses the commit.
   * Returns the unsubscribe function.
   */
  onConfigChange(sub: ConfigSubscriber | ((set: ConfigChangeSet) => void | Promise<void>)): () => void {
    return this.store.subscribe(typeof sub === 'function' ? { prepare: sub } : sub);
  }

  /**
   * Commits `next`. With `base` (the config `next` was edited from, and its seq): if others
   * committed meanwhile, the edits are replayed onto the current running config; a place both
   * changed is a conflict and the commit is refused.
   */
  commit(
    next: ConfigData,
    opts: { user: string; comment?: string; confirmMinutes?: number; base?: { seq: number; config: Readonly<ConfigData> } },
  ): Promise<CommitResult> {
    return this.store.withLock(async () => {
      let target = next;
      const base = opts.base;
      if (base && base.seq !== this.store.runningSeq()) {
        const changes = diffConfigs(this.schema, base.config as ConfigData, next);
        target = cloneConfig(this.store.running() as ConfigData);
        const conflicts = applyChanges(this.schema, target, changes);
        if (conflicts.length)
          throw new CommitRejectedError(
            `commit refused: changed by another session since your candidate was opened: ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ', ...' : ''}`,
          );
      }
      const co: { user: string; comment?: string; confirmMinutes?: number } = { user: opts.user };
      if (opts.comment !== undefined) co.comment = opts.comment;
      if (opts.confirmMinutes !== undefined) co.confirmMinutes = opts.confirmMinutes;
      return this.store.commitNow(target, co);
    });
  }

  /** Confirms a pending `commit confirmed`; false when none was pending. */
  confirm(user: string): boolean {
    return this.store.confirm(user);
  }

  /** Commits revision n (0 = running) again as the running config. */
  rollback(n: number, user: string): Promise<CommitResult> {
    const r = this.store.revision(n);
    return this.commit(cloneConfig(r.config), { user, comment: `rollback to revision ${n} (commit ${r.seq})` });
  }

  // ---- users (for the SSH server and logins) ---------------------------------------------

  users(): UserInfo[] {
    const rows = this.store.running().tables['/Setup/Config/Users'] ?? [];
    return rows.map((r) => ({
      name: r['Name'] ?? '',
      active: r['Active'] === 'yes',
      access: r['Access'] === 'admin' ? 'admin' : 'read-only',
      authorizedKeys: (r['Authorized-Keys'] ?? '').split(',').filter((k) => k !== ''),
      hasPassword: (r['Password'] ?? '') !== '',
    }));
  }

  user(name: string): UserInfo | undefined {
    return this.users().find((u) => u.name.toLowerCase() === name.toLowerCase());
  }

  /** Checks a password login; the user must be active and have a password. Never logs the password. */
  checkPassword(name: string, password: string): UserInfo | undefined {
    const rows = this.store.running().tables['/Setup/Config/Users'] ?? [];
    const row = rows.find((r) => (r['Name'] ?? '').toLowerCase() === name.toLowerCase());
    if (!row || row['Active'] !== 'yes' || !row['Password']) return undefined;
    return verifyPassword(row['Password'], password) ? this.user(name) : undefined;
  }

  /** checkPassword off the event loop (the SSH server uses this: Argon2id is slow on purpose). */
  async checkPasswordAsync(name: string, password: string): Promise<UserInfo | undefined> {
    const rows = this.store.running().tables['/Setup/Config/Users'] ?? [];
    const row = rows.find((r) => (r['Name'] ?? '').toLowerCase() === name.toLowerCase());
    if (!row || row['Active'] !== 'yes' || !row['Password']) return undefined;
    return (await verifyPasswordAsync(row['Password'], password)) ? this.user(name) : undefined;
  }

  // ---- registries ----------------------------------------------------------------------------

  /** Registers `show <name>`. A later registration of the same name replaces it; the returned function removes it. */
  registerShow(name: string, provider: ShowProvider): () => void {
    const key = name.toLowerCase();
    const prev = this.shows.get(key);
    this.shows.set(key, provider);
    return () => {
      if (this.shows.get(key) === provider) prev ? this.shows.set(key, prev) : this.shows.delete(key);
    };
  }

  showTopics(): { name: string; help: string }[] {
    return [...this.shows.entries()].map(([name, p]) => ({ name, help: p.help })).sort((a, b) => a.name.localeCompare(b.name));
  }

  showProvider(name: string): ShowProvider | undefined {
    return this.shows.get(name.toLowerCase());
  }

  /** Fills the status view with this id (declared in menus/status.ts and menus/firmware.ts). */
  registerStatusView(id: string, provider: StatusViewProvider): () => void {
    if (!(id in STATUS_VIEW_OWNERS)) throw new RouterError(`unknown status view id ${id}`);
    const prev = this.views.get(id);
    this.views.set(id, provider);
    return () => {
      if (this.views.get(id) === provider) prev ? this.views.set(id, prev) : this.views.delete(id);
    };
  }

  /** The view's data, or undefined when no module provides it (yet). */
  statusView(id: string): StatusViewData | undefined {
    return this.views.get(id)?.();
  }

  /** Renders a status node as an output block (empty when no module provides it). */
  statusBlock(node: StatusNode, title?: string): OutputBlock {
    const data = this.statusView(node.view);
    const columns = node.columns.map((c) => c.name);
    if (node.shape === 'pairs') {
      const pairs: [string, Cell][] = columns.map((c) => [c, data && 'pairs' in data ? (data.pairs[c] ?? '') : '']);
      return title !== undefined ? { kind: 'keyvalue', title, pairs } : { kind: 'keyvalue', pairs };
    }
    const rows = data && 'rows' in data ? data.rows : [];
    return title !== undefined ? { kind: 'table', title, columns, rows } : { kind: 'table', columns, rows };
  }

  /** Handles the action with this id (declared in menus/other.ts). */
  registerAction(id: string, handler: ActionHandler): () => void {
    if (!(id in ACTION_OWNERS)) throw new RouterError(`unknown action id ${id}`);
    const prev = this.actions.get(id);
    this.actions.set(id, handler);
    return () => {
      if (this.actions.get(id) === handler) prev ? this.actions.set(id, prev) : this.actions.delete(id);
    };
  }

  actionHandler(id: string): ActionHandler | undefined {
    return this.actions.get(id);
  }

  /**
   * A diagnostic tool the engine provides to the shell's commands of the same name (`ping`):
   * it writes its output as it goes and ends when done or when ctx.signal aborts.
   */
  registerTool(name: string, tool: ToolProvider): () => void {
    this.tools.set(name, tool);
    return () => {
      if (this.tools.get(name) === tool) this.tools.delete(name);
    };
  }

  tool(name: string): ToolProvider | undefined {
    return this.tools.get(name);
  }

  // ---- event log and trace -------------------------------------------------------------------

  /** Declares a trace topic (`trace + <topic>`). */
  registerTraceTopic(name: string, help: string): () => void {
    const key = name.toLowerCase();
    this.traceTopics.set(key, help);
    return () => {
      if (this.traceTopics.get(key) === help) this.traceTopics.delete(key);
    };
  }

  traceTopicList(): { name: string; help: string }[] {
    return [...this.traceTopics.entries()].map(([name, help]) => ({ name, help })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Logs an event: kept in the ring buffer and delivered to the sessions tracing `topic`.
   * Callers must never put secrets in `text`.
   */
  log(topic: string, text: string): void {
    const e: EventRecord = { time: this.clock.wallTime(), topic: topic.toLowerCase(), text };
    if (!this.traceTopics.has(e.topic)) this.traceTopics.set(e.topic, `${topic} events`);
    this.eventLog.push(e);
    if (this.eventLog.length > this.eventLogSize) this.eventLog.splice(0, this.eventLog.length - this.eventLogSize);
    for (const cb of this.traceSubs.get(e.topic) ?? []) {
      try {
        cb(e);
      } catch {
        /* a broken subscriber must not break the publisher */
      }
    }
  }

  events(): readonly EventRecord[] {
    return this.eventLog;
  }

  subscribeTrace(topic: string, cb: (e: EventRecord) => void): () => void {
    const t = topic.toLowerCase();
    let set = this.traceSubs.get(t);
    if (!set) this.traceSubs.set(t, (set = new Set()));
    set.add(cb);
    if (set.size === 1) this.notifyTraceActive(t, true);
    return () => {
      if (set.delete(cb) && set.size === 0) this.notifyTraceActive(t, false);
    };
  }

  /**
   * Delivers a trace line to the sessions tracing `topic` without keeping it in the event log
   * (per-packet traces would flood it).
   */
  trace(topic: string, text: string): void {
    const t = topic.toLowerCase();
    const subs = this.traceSubs.get(t);
    if (!subs || subs.size === 0) return;
    const e: EventRecord = { time: this.clock.wallTime(), topic: t, text };
    for (const cb of subs) {
      try {
        cb(e);
      } catch {
        /* a broken subscriber must not break the publisher */
      }
    }
  }

  /** Tells `cb` when the first session starts and the last one stops tracing `topic` (costly traces switch on and off). */
  onTraceActive(topic: string, cb: (active: boolean) => void): () => void {
    const t = topic.toLowerCase();
    let set = this.traceActivity.get(t);
    if (!set) this.traceActivity.set(t, (set = new Set()));
    set.add(cb);
    if ((this.traceSubs.get(t)?.size ?? 0) > 0) cb(true);
    return () => set.delete(cb);
  }

  private notifyTraceActive(topic: string, active: boolean): void {
    for (const cb of this.traceActivity.get(topic) ?? []) {
      try {
        cb(active);
      } catch {
        /* ignore */
      }
    }
  }

  // ---- sessions and sysinfo --------------------------------------------------------------------

  attachSession(user: string, access: Access, dirty: () => boolean): number {
    const id = this.nextSession++;
    this.sessionList.set(id, { id, user, access, since: this.clock.wallTime(), dirty });
    this.log('shell', `session ${id}: ${user} (${access}) logged in`);
    return id;
  }

  detachSession(id: number): void {
    const s = this.sessionList.get(id);
    if (!s) return;
    this.sessionList.delete(id);
    this.log('shell', `session ${id}: ${s.user} logged out`);
  }

  sessions(): readonly SessionInfo[] {
    return [...this.sessionList.values()];
  }

  uptimeSeconds(): number {
    return Math.floor((this.clock.now() - this.startedMono) / 1000);
  }

  sysinfo(): [string, Cell][] {
    const up = this.uptimeSeconds();
    const model = this.get('/Setup/Licence/Model') ?? '';
    const prof = licenceProfile(model);
    return [
      ['DEVICE', PRODUCT],
      ['VERSION', VERSION],
      ['NAME', this.name],
      ['MODEL', prof ? `${prof.model} (VPN ${prof.vpnTunnels}, mesh ${prof.meshTunnels})` : model],
      ['UPTIME', formatDuration(up)],
      ['TIME', formatTime(this.clock.wallTime())],
    ];
  }

  private registerBuiltins(): void {
    this.registerStatusView('router.sysinfo', () => ({ pairs: Object.fromEntries(this.sysinfo()) }));
    this.registerStatusView('router.sessions', () => ({
      rows: this.sessions().map((s) => [s.id, s.user, s.access, formatTime(s.since), s.dirty() ? 'yes' : 'no']),
    }));
    this.registerStatusView('router.events', () => ({ rows: this.eventLog.slice(-200).map((e) => [formatTime(e.time), e.topic, e.text]) }));
    this.registerStatusView('config.commits', () => ({ rows: this.commitRows() }));
    this.registerStatusView('firmware.version', () => ({
      pairs: { Version: `${PRODUCT} ${VERSION}`, Node: process.version, 'Start-Time': formatTime(this.startedAt) },
    }));
    this.registerAction('config.confirm', (_args, ctx) => {
      return [{ kind: 'text', text: this.confirm(ctx.user) ? 'commit confirmed' : 'no commit is waiting for confirmation' }];
    });
    this.registerAction('config.rollback', async (args, ctx) => {
      const r = await this.rollback(Number(args['revision']), ctx.user);
      return [{ kind: 'text', text: r.committed ? `rolled back: commit ${r.seq}, ${r.changes.length} change(s)` : 'nothing to roll back: revision equals the running config' }];
    });
    this.registerAction('system.reboot', () => {
      throw new RouterError('reboot is not available: this router runs without a daemon supervisor');
    });

    this.registerShow('certificates', certificateShow(this.configDir, () => this.running(), () => this.clock.wallTime()));
    for (const [id, handler] of Object.entries(pkiActions(this.configDir))) this.registerAction(id, handler);
    this.registerShow('commits', {
      help: 'Committed revisions: time, user, comment, confirmation',
      run: () => [{ kind: 'table', columns: ['Rev', 'Time', 'User', 'Comment', 'Confirmed'], rows: this.commitRows() }],
    });
    this.registerShow('config', {
      help: 'The settings that differ from the defaults, as commands (secrets omitted); --all for every setting; a path limits it',
      run: (args, ctx) => {
        const all = args.includes('--all') || args.includes('-a');
        const paths = args.filter((a) => !a.startsWith('-'));
        if (paths.length > 1) throw new RouterError('show config: one path at most');
        let under: string | undefined;
        if (paths[0]) {
          under = ctx.resolvePath ? ctx.resolvePath(paths[0]) : resolveConfigPath(this.schema, paths[0]);
          if (!under || !(under === '/Setup' || this.schema.isConfigPath(under))) throw new NotFoundError(`show config: no settings at ${paths[0].slice(0, 60)}`);
        }
        const lines = configScript(this.schema, this.running(), { withSecrets: false, changedOnly: !all, ...(under ? { under } : {}) });
        return [{ kind: 'text', text: lines.join('\n') }];
      },
    });
    this.registerShow('log', {
      help: 'The event log (newest last); show log <topic> filters',
      run: (args) => {
        const topic = args[0]?.toLowerCase();
        const rows = this.eventLog.filter((e) => !topic || e.topic === topic).slice(-200).map((e) => [formatTime(e.time), e.topic, e.text] as Cell[]);
        return [{ kind: 'table', columns: ['Time', 'Topic', 'Text'], rows }];
      },
      complete: () => this.traceTopicList().map((t) => t.name),
    });
    // `show sessions` is the flow table (engine); who is logged in is `show logins`.
    this.registerShow('logins', {
      help: 'Shell sessions logged in now',
      run: () => [
        {
          kind: 'table',
          columns: ['ID', 'User', 'Access', 'Since', 'Candidate'],
          rows: this.sessions().map((s) => [s.id, s.user, s.access, formatTime(s.since), s.dirty() ? 'yes' : 'no']),
        },
      ],
    });
    this.registerShow('version', {
      help: 'Software version and uptime',
      run: () => [{ kind: 'keyvalue', pairs: this.sysinfo() }],
    });
    this.registerShow('users', {
      help: 'Shell users, their access level and login methods (never the passwords)',
      run: () => [
        {
          kind: 'table',
          columns: ['Name', 'Active', 'Access', 'Password', 'Keys'],
          rows: this.users().map((u) => [u.name, u.active ? 'yes' : 'no', u.access, maskSecret(u.hasPassword ? 'x' : ''), u.authorizedKeys.length]),
        },
      ],
    });
  }

  private commitRows(): Cell[][] {
    return this.store.revisions().map((r, i) => [i, formatTime(new Date(r.time)), r.user, r.comment, r.confirmed]);
  }
}

/** An absolute /Setup path, matched case-insensitively element by element (no abbreviations here). */
function resolveConfigPath(schema: Schema, input: string): string | undefined {
  const want = input.replace(/\/+$/, '').toLowerCase();
  for (const p of schema.nodes.keys()) if (p.toLowerCase() === want && (p === '/Setup' || schema.isConfigPath(p))) return p;
  return undefined;
}

/** `yyyy/mm/dd hh:mm:ss` in UTC, LCOS style. */
export function formatTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** `1d 02:03:04` */
export function formatDuration(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const hms = [h, m, s].map((x) => String(x).padStart(2, '0')).join(':');
  return d ? `${d}d ${hms}` : hms;
}
