/** The command language. Renderers and access paths use createShellSession through session-api.ts. */
export { createShellSession, COMMANDS, resolveCommand, type ShellSessionOptions } from './session.js';
export { renderPlain, renderTable } from './render-plain.js';
export { tokenize, MAX_LINE_LENGTH, type Token, type Segment } from './tokenizer.js';
export { resolvePath } from './paths.js';
export { exitCodeOf, ShellSyntaxError, AmbiguousError, PermissionError } from './errors.js';
export * from './session-api.js';
