/**
 * The menu model: the shape of meshgate's command tree, as data.
 *
 * Four node kinds hang off a menu (container):
 *   - param   a scalar setting with a type, a default and help
 *   - table   rows of columns (each column typed like a param); the key columns identify a row
 *   - status  a read-only view that a module fills at run time through the Router (by view id)
 *   - action  something `do` runs (by action id), with typed arguments
 *
 * Nothing here does I/O. The shell (parse, complete, `?` help), the config store (defaults,
 * validation, persistence, diff) and `readconfig` are all derived from these declarations.
 */

/** The value types of parameters, table columns and action arguments. */
export type ValueType =
  | StringType
  | IntegerType
  | EnumType
  | ListType
  | AddressType
  | PrefixType
  | HostType
  | SecretType
  | ReferenceType
  | BooleanType;

/** Named character sets for strings (the `?` help prints the description). */
export const CHARSETS = {
  /** Letters, digits and `-_.`: names that are also keys and identities. */
  name: { pattern: /^[A-Za-z0-9._-]*$/, description: '[A-Z][a-z][0-9].-_' },
  /** Any printable ASCII character including blanks. */
  printable: { pattern: /^[\x20-\x7e]*$/, description: 'printable ASCII' },
  /** Identities: printable ASCII without blanks. */
  identity: { pattern: /^[\x21-\x7e]*$/, description: 'printable ASCII without blanks' },
} as const;
export type CharsetName = keyof typeof CHARSETS;

export interface StringType {
  kind: 'string';
  maxLength: number;
  minLength?: number;
  charset: CharsetName;
}

export interface IntegerType {
  kind: 'integer';
  min: number;
  max: number;
  /** Shown in help and listings: `s`, `min`, `KB`, ... */
  unit?: string;
}

export interface EnumType {
  kind: 'enum';
  /** Canonical spellings; input matches them case-insensitively and by unambiguous prefix. */
  values: readonly string[];
}

export interface ListType {
  kind: 'list';
  /** Element type (not a list or secret). */
  of: Exclude<ValueType, ListType | SecretType>;
  maxItems: number;
  /** True when the empty list is allowed. */
  allowEmpty: boolean;
}

export interface AddressType {
  kind: 'address';
  family: 4 | 6 | 'any';
  /** Allow the empty value (meaning "none"/"any"). */
  allowEmpty?: boolean;
}

export interface PrefixType {
  kind: 'prefix';
  family: 4 | 6 | 'any';
  allowEmpty?: boolean;
}

export interface HostType {
  kind: 'host';
  /** `host:port` (IPv6 as `[addr]:port`) is allowed. */
  port: boolean;
  /** `*` (any) is allowed. */
  wildcard: boolean;
  allowEmpty?: boolean;
}

export interface SecretType {
  kind: 'secret';
  maxLength: number;
  /**
   * `hash`: stored only as a libsodium crypto_pwhash_str string (user passwords).
   * `plain`: stored as given because the engine needs it (pre-shared keys). Never shown either way.
   */
  storage: 'hash' | 'plain';
}

export interface ReferenceType {
  kind: 'reference';
  /** Absolute path of the table whose (single) key column is referenced. */
  table: string;
  /** The empty value means "no reference". */
  allowEmpty: boolean;
}

export interface BooleanType {
  kind: 'boolean';
  /** LCOS uses yes/no for most switches and on/off for some. */
  style: 'yes-no' | 'on-off';
}

interface NodeBase {
  /** As shown and typed; matched case-insensitively and by unambiguous prefix. */
  name: string;
  /** One line, shown by `?` and `ls -a`. */
  help: string;
}

export interface ParamNode extends NodeBase {
  kind: 'param';
  type: ValueType;
  /** The canonical default value, as the user would type it ('' for an empty value). */
  default: string;
}

/** A table column: a param that lives in every row. */
export interface ColumnDef {
  name: string;
  help: string;
  type: ValueType;
  default: string;
}

export interface TableNode extends NodeBase {
  kind: 'table';
  /** Names of the key columns, in order; they are also the first columns. */
  keys: readonly string[];
  columns: readonly ColumnDef[];
  maxRows: number;
  /** Rows present in a fresh config (e.g. DEFAULT profiles), by column name; missing columns take their defaults. */
  defaultRows?: readonly Readonly<Record<string, string>>[];
}

export interface StatusColumn {
  name: string;
  help: string;
}

export interface StatusNode extends NodeBase {
  kind: 'status';
  /** Id under which a module registers its provider with `router.registerStatusView`. */
  view: string;
  /** `table`: rows of columns; `pairs`: one `KEY: value` list with `columns` as the keys. */
  shape: 'table' | 'pairs';
  columns: readonly StatusColumn[];
}

export interface ActionArg {
  name: string;
  help: string;
  type: ValueType;
  optional?: boolean;
}

export interface ActionNode extends NodeBase {
  kind: 'action';
  /** Id under which a module registers its handler with `router.registerAction`. */
  action: string;
  args: readonly ActionArg[];
  /** A read-only user may run it (it changes nothing). */
  readOnly?: boolean;
}

export interface MenuNode extends NodeBase {
  kind: 'menu';
  children: readonly MenuChild[];
}

export type MenuChild = MenuNode | ParamNode | TableNode | StatusNode | ActionNode;
export type AnyNode = MenuChild;

/** Builders: keep the declarations in menus/*.ts short and typed. */
export const menu = (name: string, help: string, children: MenuChild[]): MenuNode => ({ kind: 'menu', name, help, children });
export const param = (name: string, help: string, type: ValueType, def: string): ParamNode => ({
  kind: 'param',
  name,
  help,
  type,
  default: def,
});
export const column = (name: string, help: string, type: ValueType, def: string): ColumnDef => ({ name, help, type, default: def });
export const table = (
  name: string,
  help: string,
  opts: { keys: string[]; columns: ColumnDef[]; maxRows?: number; defaultRows?: Record<string, string>[] },
): TableNode => ({
  kind: 'table',
  name,
  help,
  keys: opts.keys,
  columns: opts.columns,
  maxRows: opts.maxRows ?? 10_000,
  ...(opts.defaultRows ? { defaultRows: opts.defaultRows } : {}),
});
export const status = (
  name: string,
  help: string,
  view: string,
  shape: 'table' | 'pairs',
  columns: [string, string][],
): StatusNode => ({ kind: 'status', name, help, view, shape, columns: columns.map(([n, h]) => ({ name: n, help: h })) });
export const action = (name: string, help: string, id: string, args: ActionArg[] = [], readOnly = false): ActionNode => ({
  kind: 'action',
  name,
  help,
  action: id,
  args,
  ...(readOnly ? { readOnly } : {}),
});

/** Type builders. */
export const t = {
  string: (maxLength: number, charset: CharsetName = 'printable', minLength = 0): StringType => ({
    kind: 'string',
    maxLength,
    charset,
    ...(minLength ? { minLength } : {}),
  }),
  int: (min: number, max: number, unit?: string): IntegerType => ({ kind: 'integer', min, max, ...(unit ? { unit } : {}) }),
  enum: (...values: string[]): EnumType => ({ kind: 'enum', values }),
  list: (of: ListType['of'], maxItems = 32, allowEmpty = true): ListType => ({ kind: 'list', of, maxItems, allowEmpty }),
  ipv4: (allowEmpty = false): AddressType => ({ kind: 'address', family: 4, allowEmpty }),
  ipv6: (allowEmpty = false): AddressType => ({ kind: 'address', family: 6, allowEmpty }),
  address: (allowEmpty = false): AddressType => ({ kind: 'address', family: 'any', allowEmpty }),
  prefix: (family: 4 | 6 | 'any' = 'any', allowEmpty = false): PrefixType => ({ kind: 'prefix', family, allowEmpty }),
  host: (opts: { port?: boolean; wildcard?: boolean; allowEmpty?: boolean } = {}): HostType => ({
    kind: 'host',
    port: opts.port ?? false,
    wildcard: opts.wildcard ?? false,
    allowEmpty: opts.allowEmpty ?? false,
  }),
  secret: (maxLength: number, storage: 'hash' | 'plain'): SecretType => ({ kind: 'secret', maxLength, storage }),
  ref: (tablePath: string, allowEmpty = false): ReferenceType => ({ kind: 'reference', table: tablePath, allowEmpty }),
  yesNo: (): BooleanType => ({ kind: 'boolean', style: 'yes-no' }),
  onOff: (): BooleanType => ({ kind: 'boolean', style: 'on-off' }),
};

/** True for nodes that may contain others when walking paths. */
export function isContainer(n: AnyNode): n is MenuNode {
  return n.kind === 'menu';
}
