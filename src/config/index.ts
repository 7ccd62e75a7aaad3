/** The configuration layer: tree, validation, edits, diff, store and script. */
export * from './errors.js';
export * from './tree.js';
export * from './validate.js';
export * from './edit.js';
export * from './diff.js';
export * from './store.js';
export * from './script.js';
export { hashPassword, verifyPassword, verifyPasswordAsync, maskSecret, isPasswordHash, SECRET_MASK } from './secrets.js';
export * from './typed.js';
