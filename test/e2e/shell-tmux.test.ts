/**
 * The interactive shell in a real terminal: the built binary in a tmux session of its own
 * (private tmux server, `-L mg-...`), driven with send-keys and read with capture-pane.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ensureBuilt, runBin, startBin, tempConfigDir } from './shell-harness.js';

before(() => ensureBuilt());

function tmuxDriver(t: { after(fn: () => unknown): void }) {
  const server = `mg-${randomBytes(4).toString('hex')}`;
  const session = server;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8', timeout: 10_000 });
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      /* already gone with its last session */
    }
    // The server leaves its socket file behind.
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, server), { force: true });
  });
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  return {
    start(cmd: string) {
      tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', cmd);
    },
    keys: (...keys: string[]) => tmux('send-keys', '-t', session, ...keys),
    /** Literal text (no key-name lookup). */
    type: (text: string) => tmux('send-keys', '-t', session, '-l', text),
    screen,
    async waitFor(pred: (s: string) => boolean, what: string, ms = 10_000): Promise<string> {
      const end = Date.now() + ms;
      for (;;) {
        const s = screen();
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    alive(): boolean {
      try {
        tmux('has-session', '-t', session);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The last non-empty line of the screen (where the prompt sits). */
const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';

test('interactive shell in tmux: prompt, Tab completion, output, history, exit', async (t) => {
  const dir = tempConfigDir(t);
  const tm = tmuxDriver(t);
  tm.start(`${BIN} --config-dir ${dir}`);
  await tm.waitFor((s) => /meshgate:\/>/.test(s), 'the prompt');

  // A single candidate is inserted in place.
  tm.type('ls /se/con');
  tm.keys('Tab');
  await tm.waitFor((s) => lastLine(s) === 'meshgate:/> ls /se/Config/', 'completed path');
  tm.keys('Enter');
  await tm.waitFor((s) => /^SSH\/\s*$/m.test(s) && /^CLI\/\s*$/m.test(s), 'listing of /Setup/Config');

  // Several candidates are listed under the prompt.
  tm.type('ls /S');
  tm.keys('Tab');
  const listed = await tm.waitFor((s) => /Setup\/\s+Status\//.test(s), 'completion list');
  assert.match(listed, /meshgate:\/> ls \/S/);
  tm.keys('C-u');
  await tm.waitFor((s) => !/Setup\/\s+Status\//.test(s), 'list cleared by the next key');

  tm.type('cd /Setup/Config');
  tm.keys('Enter');
  await tm.waitFor((s) => lastLine(s).startsWith('meshgate:/Setup/Config>'), 'prompt follows cd');

  tm.type('sysinfo');
  tm.keys('Enter');
  await tm.waitFor((s) => /^DEVICE: meshgate/m.test(s), 'sysinfo output');

  // History: Up twice brings back the cd.
  tm.keys('Up', 'Up');
  await tm.waitFor((s) => lastLine(s) === 'meshgate:/Setup/Config> cd /Setup/Config', 'history recall');
  tm.keys('C-u');

  tm.type('exit');
  tm.keys('Enter');
  const end = Date.now() + 10_000;
  while (tm.alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(tm.alive(), false, 'the shell exited and took its tmux session with it');
});

test('Ctrl-C clears the line; Ctrl-D on an empty line logs out', async (t) => {
  const dir = tempConfigDir(t);
  const tm = tmuxDriver(t);
  tm.start(`${BIN} --config-dir ${dir}`);
  await tm.waitFor((s) => /meshgate:\/>/.test(s), 'the prompt');
  tm.type('set /Setup/Name never');
  tm.keys('C-c');
  await tm.waitFor((s) => /never\^C/.test(s) && lastLine(s) === 'meshgate:/>', 'line abandoned');
  tm.keys('C-d');
  const end = Date.now() + 10_000;
  while (tm.alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(tm.alive(), false);
  const name = execFileSync(BIN, ['--config-dir', dir, '-c', 'sysinfo'], { encoding: 'utf8' });
  assert.match(name, /NAME: meshgate/, 'the abandoned line never ran');
});

test('keys typed while the shell starts are neither lost nor reordered', async (t) => {
  const dir = tempConfigDir(t);
  const tm = tmuxDriver(t);
  tm.start(`${BIN} --config-dir ${dir}`);
  // No waiting for the prompt: the text, a Tab and Enter go in at once.
  tm.type('sysi');
  tm.keys('Tab', 'Enter');
  tm.type('ls /Setup/Config/SSH');
  tm.keys('Enter');
  const s = await tm.waitFor((x) => /^Max-Auth-Tries/m.test(x), 'both commands ran');
  assert.ok(s.indexOf('DEVICE: meshgate') < s.indexOf('Max-Auth-Tries'), 'in the order typed');
  assert.match(s, /meshgate:\/> sysinfo/);
});

test('the console on a running daemon sees another session\'s change, prompt included', async (t) => {
  const dir = tempConfigDir(t);
  const daemon = startBin(t, ['daemon', '--config-dir', dir]);
  await daemon.waitFor(/ready/);
  const tm = tmuxDriver(t);
  tm.start(`${BIN} --config-dir ${dir}`);
  await tm.waitFor((s) => /meshgate:\/>/.test(s), 'the prompt');
  const other = await runBin(['--config-dir', dir, '-c', 'set /Setup/Name renamed-elsewhere']);
  assert.equal(other.code, 0, other.stderr);
  tm.type('sysinfo');
  tm.keys('Enter');
  const s = await tm.waitFor((x) => /^NAME: renamed-elsewhere/m.test(x) && /renamed-elsewhere:\/>\s*$/.test(x.trimEnd()), 'the change and the new prompt');
  assert.match(s, /meshgate:\/> sysinfo/, 'the line was typed under the old name');
  tm.keys('C-d');
  const end = Date.now() + 10_000;
  while (tm.alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(tm.alive(), false);
  assert.equal(await daemon.stop(), 0);
});

test('the console says so and exits when its daemon goes away', async (t) => {
  const dir = tempConfigDir(t);
  const daemon = startBin(t, ['daemon', '--config-dir', dir]);
  await daemon.waitFor(/ready/);
  const tm = tmuxDriver(t);
  const log = `${dir}/console.err`;
  tm.start(`${BIN} --config-dir ${dir} 2>${log}; echo "exit=$?"; sleep 30`);
  await tm.waitFor((s) => /meshgate:\/>/.test(s), 'the prompt');
  assert.equal(await daemon.stop('SIGTERM'), 0);
  await tm.waitFor((s) => /exit=1/.test(s), 'the console exited with 1');
  assert.match(readFileSync(log, 'utf8'), /connection to the daemon lost/);
});
