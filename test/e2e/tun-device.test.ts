/**
 * End-to-end: the TUN addon in a network namespace (root only).
 * - a child opens a TUN device inside mg-tun-*, assigns 10.77.0.1/24 and fd77::1/64, routes
 *   10.78.0.0/24 into it and answers echo requests with replies from ip-packet.ts; `ping`
 *   inside the namespace must get its replies (IPv4, IPv6, the routed prefix);
 * - reads come in batches: packets queued while the child is not reading arrive in one batch;
 * - at shutdown the addresses and routes are removed and the device disappears, also when
 *   the port is closed from inside its own batch callback;
 * - without privileges, or without /dev/net/tun, the open fails with the error that says what
 *   is missing, and openLanPort falls back to memory with that reason.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createNetns, deleteNetns, requireRoot, rootSkip, run, spawnTsInNetns, type JsonChild } from './netns-helpers.js';

const RESPONDER = fileURLToPath(new URL('./fixtures/tun-echo-responder.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/tun-open-probe.ts', import.meta.url));
const WORKER_EXIT = fileURLToPath(new URL('./fixtures/tun-worker-exit.ts', import.meta.url));

const namespaces: string[] = [];
const children: JsonChild[] = [];
after(async () => {
  for (const c of children) await c.stop(2_000);
  for (const ns of namespaces) await deleteNetns(ns);
});

async function netns(): Promise<string> {
  const ns = await createNetns('tun');
  namespaces.push(ns);
  return ns;
}

function ping(ns: string, args: string[]) {
  return run('ip', ['netns', 'exec', ns, 'ping', ...args], 20_000);
}

test('TUN echo responder answers ping in a namespace (IPv4, IPv6, routed prefix) and cleans up', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  const child = spawnTsInNetns(ns, RESPONDER, ['mgtun0']);
  children.push(child);
  try {
    const ready = await child.waitFor((o) => o.event === 'ready', 20_000, 'the responder to open its TUN');
    assert.equal(ready.name, 'mgtun0');
    assert.equal(ready.kind, 'tun');

    const link = await run('ip', ['-n', ns, '-o', 'link', 'show', 'mgtun0']);
    assert.match(link.stdout, /mtu 1400/);
    assert.match(link.stdout, /UP/);
    const addrs = await run('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'mgtun0']);
    assert.match(addrs.stdout, /10\.77\.0\.1\/24/);
    assert.match(addrs.stdout, /fd77::1\/64/);
    const routes = await run('ip', ['-n', ns, 'route', 'show', '10.78.0.0/24']);
    assert.match(routes.stdout, /dev mgtun0/);

    const p4 = await ping(ns, ['-c', '3', '-W', '1', '-i', '0.2', '10.77.0.2']);
    assert.equal(p4.code, 0, `ping 10.77.0.2 failed:\n${p4.stdout}${p4.stderr}`);
    assert.match(p4.stdout, /3 packets transmitted, 3 received/);
    const pr = await ping(ns, ['-c', '3', '-W', '1', '-i', '0.2', '10.78.0.5']);
    assert.equal(pr.code, 0, `ping 10.78.0.5 (routed into the TUN) failed:\n${pr.stdout}${pr.stderr}`);
    assert.match(pr.stdout, /3 packets transmitted, 3 received/);
    const p6 = await ping(ns, ['-6', '-c', '3', '-W', '1', '-i', '0.2', 'fd77::2']);
    assert.equal(p6.code, 0, `ping fd77::2 failed:\n${p6.stdout}${p6.stderr}`);
    assert.match(p6.stdout, /3 packets transmitted, 3 received/);

    // the replies came from the responder through the TUN, not from the kernel
    child.send('stats');
    const stats = await child.waitFor((o) => o.event === 'stats', 5_000, 'stats');
    assert.equal(stats.replies, 9);
    assert.equal(stats.sendFailed, 0);
    assert.equal(stats.malformed, 0);
    const counters = stats.counters as Record<string, number>;
    assert.ok(counters.rxPackets! >= 9);
    assert.equal(counters.txPackets, 9);
    assert.equal(counters.rxDropped, 0);

    const code = await child.stop();
    assert.equal(code, 0, `responder exit: ${child.stderr}`);
    const closed = child.lines.find((o) => o.event === 'closed');
    assert.ok(closed, 'responder reported its shutdown');
    const gone = await run('ip', ['-n', ns, 'link', 'show', 'mgtun0']);
    assert.notEqual(gone.code, 0, 'the TUN device is gone after close');
    const left = await run('ip', ['-n', ns, 'route', 'show', '10.78.0.0/24']);
    assert.equal(left.stdout.trim(), '', 'no route left behind');
  } finally {
    await child.stop(2_000);
  }
});

test('packets queued while not reading arrive in one batch', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  const child = spawnTsInNetns(ns, RESPONDER, ['mgtun1', '--defer-read']);
  children.push(child);
  try {
    await child.waitFor((o) => o.event === 'ready', 20_000, 'the responder to open its TUN');
    // preload 8 echo requests at once; the responder is not reading yet, so they queue in the device
    const pinging = ping(ns, ['-c', '8', '-l', '8', '-w', '8', '10.77.0.9']);
    await new Promise((r) => setTimeout(r, 500));
    child.send('go');
    const p = await pinging;
    assert.match(p.stdout, /8 packets transmitted, 8 received/, `${p.stdout}${p.stderr}`);
    child.send('stats');
    const stats = await child.waitFor((o) => o.event === 'stats', 5_000, 'stats');
    assert.equal(stats.replies, 8);
    assert.ok((stats.maxBatch as number) >= 8, `largest batch ${String(stats.maxBatch)}: the queued packets were read in one batch`);
  } finally {
    await child.stop(2_000);
  }
});

test('closing the port from inside the batch callback is safe', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  const child = spawnTsInNetns(ns, RESPONDER, ['mgtun2', '--close-in-callback']);
  children.push(child);
  try {
    await child.waitFor((o) => o.event === 'ready', 20_000, 'the responder to open its TUN');
    const p = await ping(ns, ['-c', '1', '-W', '2', '10.77.0.2']);
    assert.match(p.stdout, /1 packets transmitted, 1 received/, `${p.stdout}${p.stderr}`);
    const closed = await child.waitFor((o) => o.event === 'closed', 10_000, 'the close');
    assert.equal(closed.replies, 1);
    assert.equal(await child.exited, 0, `exit after close in callback; stderr: ${child.stderr}`);
    const gone = await run('ip', ['-n', ns, 'link', 'show', 'mgtun2']);
    assert.notEqual(gone.code, 0, 'the device is gone');
  } finally {
    await child.stop(2_000);
  }
});

test('without /dev/net/tun the open fails saying it is missing, and openLanPort falls back', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  // a private mount namespace with an empty tmpfs over /dev/net: the host's /dev is untouched
  const r = await run(
    'ip',
    [
      'netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
      `mount -t tmpfs none /dev/net && exec "${process.execPath}" --import tsx "${PROBE}" mgp0`,
    ],
    30_000,
  );
  assert.equal(r.code, 0, `probe failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { open: Record<string, unknown>; auto: Record<string, unknown> };
  assert.equal(out.open.ok, false);
  assert.equal(out.open.errorName, 'TunUnavailableError');
  assert.match(String(out.open.message), /\/dev\/net\/tun missing/);
  assert.equal(out.auto.kind, 'memory');
  assert.match(String(out.auto.fallbackReason), /\/dev\/net\/tun missing/);
});

test('a worker thread that exits with its TUN open leaves no device behind', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  const child = spawnTsInNetns(ns, WORKER_EXIT, ['mgw0']);
  children.push(child);
  const r = await child.waitFor((o) => 'before' in o, 20_000, 'the worker result');
  assert.equal(r.before, true, 'the worker had the device open');
  assert.equal(r.after, false, 'the environment cleanup closed it');
  assert.equal(await child.exited, 0, `exit code; stderr: ${child.stderr}`);
});

test('without CAP_NET_ADMIN the open fails saying so, and openLanPort falls back to memory', { skip: rootSkip() }, async () => {
  requireRoot();
  const ns = await netns();
  const setpriv = await run('setpriv', ['--version']);
  assert.equal(setpriv.code, 0, 'setpriv (util-linux) is needed for this test');
  // 1) root without CAP_NET_ADMIN: /dev/net/tun opens, TUNSETIFF is refused (EPERM)
  const noCap = spawnTsInNetns(ns, PROBE, ['mgprobe0'], ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin']);
  children.push(noCap);
  const r1 = await noCap.waitFor((o) => 'open' in o, 20_000, 'the probe result');
  const open1 = r1.open as Record<string, unknown>;
  assert.equal(open1.ok, false);
  assert.equal(open1.errorName, 'TunPermissionError');
  assert.match(String(open1.message), /needs root or CAP_NET_ADMIN/);
  const auto1 = r1.auto as Record<string, unknown>;
  assert.equal(auto1.kind, 'memory');
  assert.match(String(auto1.fallbackReason), /runs in memory: .*needs root or CAP_NET_ADMIN/);
  // 2) user nobody: /dev/net/tun itself is refused (EACCES)
  const nobody = spawnTsInNetns(ns, PROBE, ['mgprobe1'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  children.push(nobody);
  const r2 = await nobody.waitFor((o) => 'open' in o, 20_000, 'the probe result as nobody');
  const open2 = r2.open as Record<string, unknown>;
  assert.equal(open2.ok, false);
  assert.equal(open2.errorName, 'TunPermissionError');
  assert.match(String(open2.message), /needs root or CAP_NET_ADMIN/);
  assert.equal((r2.auto as Record<string, unknown>).kind, 'memory');
  const links = await run('ip', ['-n', ns, '-o', 'link', 'show']);
  assert.doesNotMatch(links.stdout, /mgprobe/, 'nothing was created');
});
