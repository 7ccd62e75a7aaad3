/**
 * Mounts the Ink app on a pair of terminal streams (the local TTY, or an SSH channel)
 * and resolves when the session ends. Imported lazily: scripts never load Ink or React.
 */
import React from 'react';
import { render } from 'ink';
import { App } from './app.js';
import type { UiSession } from './ui-session.js';
import type { BootSource } from './boot-prompt.js';

export interface TerminalStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Runs the shell until the session ends, or until `signal` aborts (the terminal went away). */
export async function runInteractive(
  session: UiSession,
  streams: TerminalStreams,
  options: { signal?: AbortSignal; boot?: BootSource } = {},
): Promise<'exit' | 'eof' | 'gone'> {
  const { signal, boot } = options;
  let reason: 'exit' | 'eof' | 'gone' = 'eof';
  const instance = render(
    <App
      session={session}
      {...(boot ? { boot } : {})}
      onExit={(r) => {
        reason = r;
      }}
    />,
    { stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, exitOnCtrlC: false, patchConsole: false },
  );
  const onGone = () => {
    reason = 'gone';
    instance.unmount();
  };
  if (signal?.aborted) onGone();
  else signal?.addEventListener('abort', onGone, { once: true });
  try {
    await instance.waitUntilExit();
  } finally {
    signal?.removeEventListener('abort', onGone);
  }
  instance.cleanup();
  return reason;
}
