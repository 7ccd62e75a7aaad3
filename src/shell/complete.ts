/**
 * Completion at the cursor: commands, path elements, parameter names, enum and boolean values,
 * table keys, `{Column}` names, show and trace topics.
 */
import { typeCompletions, type AnyNode, type TableNode } from '../../menus/index.js';
import type { Completion } from './session-api.js';
import { resolvePath } from './paths.js';
import { tokenize, type Token } from './tokenizer.js';
import type { Session } from './session.js';
import { commandNames, resolveCommand } from './session.js';

function startsWithCI(s: string, p: string): boolean {
  return s.toLowerCase().startsWith(p.toLowerCase());
}

function uniqSorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort((a, b) => {
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

const isContainer = (n: AnyNode) => n.kind === 'menu' || n.kind === 'table' || n.kind === 'status';

export function completeLine(s: Session, line: string, cursor: number): Completion {
  const cur = Math.max(0, Math.min(cursor, line.length));
  const text = line.slice(0, cur);
  const { segments } = tokenize(text, { partial: true });
  const seg = segments[segments.length - 1];
  const tokens: Token[] = seg ? seg.tokens : [];
  const atNewWord = text.length === 0 || /[\s;]$/.test(text);
  const partialTok = atNewWord ? undefined : tokens[tokens.length - 1];
  const before = partialTok ? tokens.slice(0, -1) : tokens;
  const partial = partialTok?.text ?? '';
  const from = partialTok?.start ?? cur;
  const none: Completion = { from, candidates: [] };

  if (before.length === 0) return { from, candidates: commandNames().filter((c) => c.startsWith(partial.toLowerCase())) };

  let cmd;
  try {
    cmd = resolveCommand(before[0]!.text);
  } catch {
    return none;
  }
  const args = before.slice(1);
  const schema = s.router.schema;

  const paths = (filter: (n: AnyNode) => boolean = () => true): Completion => {
    const i = partial.lastIndexOf('/');
    const dirPart = i >= 0 ? partial.slice(0, i) || '/' : '.';
    const namePart = i >= 0 ? partial.slice(i + 1) : partial;
    let dir;
    try {
      dir = resolvePath(schema, s.cwd, dirPart);
    } catch {
      return none;
    }
    if (dir.node.kind !== 'menu') return { from: from + i + 1, candidates: [] };
    const children = dir.node.children.filter((c) => startsWithCI(c.name, namePart) && (filter(c) || c.kind === 'menu'));
    const candidates = children.map((c) => (isContainer(c) ? `${c.name}/` : c.name));
    if (dir.path === '/' || dirPart !== '.') {
      /* no parent entry */
    }
    return { from: from + i + 1, candidates: uniqSorted(candidates) };
  };

  const values = (xs: readonly string[]): Completion => ({ from, candidates: uniqSorted(xs.filter((x) => startsWithCI(x, partial))) });

  const tableKeys = (t: TableNode, path: string, keyIndex: number): string[] => {
    const col = t.keys[keyIndex]!;
    const low = partial.toLowerCase();
    const out: string[] = [];
    for (const r of s.viewConfig().tables[path] ?? []) {
      const k = r[col] ?? '';
      if (k !== '' && k.toLowerCase().startsWith(low)) out.push(k);
    }
    return out;
  };

  const rowCompletion = (t: TableNode, path: string, rest: Token[], verb: string): Completion => {
    const k = t.keys.length;
    if (rest.length < k) {
      const keys = tableKeys(t, path, rest.length);
      return values(verb === 'del' ? ['*', ...keys] : keys);
    }
    if (verb === 'del') return none;
    if (partial.startsWith('{')) {
      const inner = partial.slice(1);
      return { from, candidates: uniqSorted(t.columns.filter((c) => !t.keys.includes(c.name) && startsWithCI(c.name, inner)).map((c) => `{${c.name}}`)) };
    }
    const last = rest[rest.length - 1];
    if (last?.column) {
      const col = t.columns.find((c) => startsWithCI(c.name, last.text));
      return col ? values(typeCompletions(col.type)) : none;
    }
    if (rest.slice(k).some((x) => x.column)) return none;
    const nonKey = t.columns.filter((c) => !t.keys.includes(c.name));
    const col = nonKey[rest.length - k];
    return col ? values(typeCompletions(col.type)) : none;
  };

  switch (cmd.name) {
    case 'cd':
      return args.length === 0 ? paths(isContainer) : none;
    case 'ls':
    case 'default':
      return args.filter((a) => !a.text.startsWith('-')).length === 0 ? paths() : none;
    case 'do': {
      if (args.length === 0) {
        const c = paths((n) => n.kind === 'action');
        if (c.candidates.length || partial.includes('/')) return c;
        return paths((n) => n.kind === 'action');
      }
      return none;
    }
    case 'set':
    case 'add':
    case 'del': {
      const cwdNode = schema.node(s.cwd);
      if (cwdNode?.kind === 'table') return rowCompletion(cwdNode, s.cwd, args, cmd.name);
      if (args.length === 0) return paths((n) => n.kind === 'param' || n.kind === 'table');
      let target;
      try {
        target = resolvePath(schema, s.cwd, args[0]!.text);
      } catch {
        return none;
      }
      if (target.node.kind === 'param') return args.length === 1 ? values(typeCompletions(target.node.type)) : none;
      if (target.node.kind === 'table') return rowCompletion(target.node, target.path, args.slice(1), cmd.name);
      return none;
    }
    case 'show': {
      if (args.length === 0) return values(s.router.showTopics().map((t) => t.name));
      const p = s.router.showProvider(args[0]!.text);
      return values([...(p?.complete?.(args.slice(1).map((a) => a.text)) ?? []), '--watch']);
    }
    case 'trace':
      if (args.length === 0) return values(['+', '-', '#']);
      return values(s.router.traceTopicList().map((t) => t.name));
    case 'commit':
      return values(['check', 'confirmed', 'comment']);
    case 'readconfig':
      return values(['--with-secrets']);
    case 'exit':
      return values(['discard']);
    case 'repeat': {
      if (args.length === 0) return none;
      const innerStart = args[1]?.start ?? from;
      const sub = completeLine(s, line.slice(innerStart, cur), cur - innerStart);
      return { from: sub.from + innerStart, candidates: sub.candidates };
    }
    default:
      return none;
  }
}
