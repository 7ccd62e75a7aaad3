/**
 * What the interactive UI and the script runner need from a session. A ShellSession
 * fits as is; a session proxied over the control socket answers completion
 * asynchronously, which is why `complete` may return a promise here.
 */
import type { Completion, ExecuteOptions, ExecuteResult } from '../shell/session-api.js';

export interface UiSession {
  prompt(): string;
  execute(line: string, options: ExecuteOptions): Promise<ExecuteResult>;
  complete(line: string, cursor: number): Completion | Promise<Completion>;
  history(): readonly string[];
  close(): void;
}
