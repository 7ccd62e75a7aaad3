/**
 * Loads the Ink UI on demand (scripts never pay for React and Ink). Two process-wide
 * switches are decided when Ink's dependencies load, so they are set around the import:
 * is-in-ci (a CI=true environment would make Ink print only the final frame, which is
 * useless for an interactive shell) and, for the daemon that serves SSH, chalk's colour
 * level (the daemon's own stdout is no terminal, the SSH client's is). NODE_ENV defaults to
 * production so that React loads its production build.
 */
export type InteractiveModule = typeof import('./interactive.js');

let loaded: Promise<InteractiveModule> | undefined;

export function loadInteractive(options: { forceColor?: boolean } = {}): Promise<InteractiveModule> {
  if (loaded) return loaded;
  const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION, FORCE_COLOR: process.env.FORCE_COLOR };
  process.env.CI = '0';
  process.env.CONTINUOUS_INTEGRATION = '0';
  if (options.forceColor && process.env.NO_COLOR === undefined) process.env.FORCE_COLOR = '1';
  // React's development build is several times slower to load and render; a shell is production.
  process.env.NODE_ENV ??= 'production';
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  loaded = import('./interactive.js').then(
    (m) => {
      restore();
      return m;
    },
    (err: unknown) => {
      restore();
      loaded = undefined;
      throw err;
    },
  );
  return loaded;
}
