/**
 * Path resolution over the menu tree: absolute or relative, `..` and `.`, every element
 * case-insensitive and abbreviable while unambiguous (`/se/v/ik` = /Setup/VPN/IKEv2).
 */
import type { AnyNode, MenuNode } from '../../menus/index.js';
import type { Schema } from '../config/index.js';
import { NotFoundError } from '../config/index.js';
import { AmbiguousError } from './errors.js';

export interface Resolved {
  path: string;
  node: AnyNode | MenuNode;
}

/** Shortens user input quoted in a message. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Picks among names: exact (case-insensitive) first, then a unique prefix. */
export function matchName<T extends { name: string }>(items: readonly T[], word: string, what: string, where?: string): T {
  const low = word.toLowerCase();
  const exact = items.find((x) => x.name.toLowerCase() === low);
  if (exact) return exact;
  const pre = items.filter((x) => x.name.toLowerCase().startsWith(low));
  if (pre.length === 1) return pre[0]!;
  if (pre.length > 1) throw new AmbiguousError(word, pre.map((x) => x.name), where ? `${what} in ${where}` : what);
  throw new NotFoundError(`no ${what} '${clip(word)}'${where ? ` in ${where}` : ''}`);
}

export function parentPath(path: string): string {
  if (path === '/') return '/';
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Resolves `input` against `cwd`. Throws NotFoundError or AmbiguousError naming the element. */
export function resolvePath(schema: Schema, cwd: string, input: string): Resolved {
  let path = input.startsWith('/') ? '/' : cwd;
  for (const el of input.split('/')) {
    if (el === '' || el === '.') continue;
    if (el === '..') {
      path = parentPath(path);
      continue;
    }
    const node = schema.node(path);
    if (!node || node.kind !== 'menu') throw new NotFoundError(`${path} is not a menu: cannot resolve '${clip(el)}' under it`);
    let child;
    try {
      child = matchName(node.children, el, 'element', path);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`no '${clip(el)}' under ${path}`);
      throw err;
    }
    path = joinPath(path, child.name);
  }
  const node = schema.node(path);
  if (!node) throw new NotFoundError(`no ${path}`);
  return { path, node };
}
