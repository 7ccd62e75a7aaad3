/**
 * The root of meshgate's typed errors. Modules derive their own classes from it
 * (see each module's errors.ts) and callers match on `err.name`, not on message text.
 */
export class MeshgateError extends Error {
  static override readonly name: string = 'MeshgateError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
