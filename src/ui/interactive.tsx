/**
 * Mounts the Ink app on a pair of terminal streams (the local TTY, or an SSH channel)
 * and resolves when the session ends. Imported lazily: scripts never load Ink or React.
 */
import React from 'react';
import { render } from 'ink';
import { App } from './app.js';
import type { UiSession } from './ui-session.js';

export interface TerminalStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export async function runInteractive(session: UiSession, streams: TerminalStreams): Promise<'exit' | 'eof'> {
  let reason: 'exit' | 'eof' = 'eof';
  const instance = render(
    <App
      session={session}
      onExit={(r) => {
        reason = r;
      }}
    />,
    { stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, exitOnCtrlC: false, patchConsole: false },
  );
  await instance.waitUntilExit();
  instance.cleanup();
  return reason;
}
