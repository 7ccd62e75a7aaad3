import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExitCode } from '../../../src/shell/index.js';
import { configsEqual } from '../../../src/config/index.js';
import { harness } from './harness.js';

const PEERS = '/Setup/VPN/IKEv2/Peers';
const MESH = '/Setup/VPN/IKEv2/Mesh';

test('navigation: cd with abbreviations, relative paths, .., the prompt', async () => {
  const h = await harness('hub');
  try {
    const sh = h.session();
    assert.equal(sh.s.prompt(), 'hub:/');
    assert.equal((await sh.run('cd /se/v/ik')).exitCode, 0);
    assert.equal(sh.s.prompt(), 'hub:/Setup/VPN/IKEv2');
    await sh.run('cd mesh/forw');
    assert.equal(sh.s.prompt(), 'hub:/Setup/VPN/IKEv2/Mesh/Forwarding-Filter');
    assert.equal((await sh.run('cd ../../../..; cd ./Config')).exitCode, 0);
    assert.equal(sh.s.prompt(), 'hub:/Setup/Config');
    const amb = await sh.run('cd /s');
    assert.equal(amb.exitCode, ExitCode.ambiguous);
    assert.match(amb.text, /Error: 's' is ambiguous .*Setup, Status/);
    const nf = await sh.run('cd /Setup/Nope');
    assert.equal(nf.exitCode, ExitCode.notFound);
    const leaf = await sh.run('cd /Setup/Name');
    assert.equal(leaf.exitCode, ExitCode.notFound);
    assert.equal(sh.s.prompt(), 'hub:/Setup/Config', 'a failed cd leaves the path');
    const unk = await sh.run('frobnicate');
    assert.equal(unk.exitCode, ExitCode.syntax);
  } finally {
    h.cleanup();
  }
});

test('set/add/del on tables: positional values, * keeps, {Column} pairs, upsert, strict add, del *', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    await sh.run('cd /Setup/VPN/IKEv2/Peers');
    assert.equal((await sh.run('set HQ yes hq.example.com:4500 initiator hub')).exitCode, 0);
    let row = h.router.running().tables[PEERS]![0]!;
    assert.equal(row['Remote-Gateway'], 'hq.example.com:4500');
    assert.equal(row['Role'], 'initiator');
    assert.equal(row['Type'], 'hub');
    assert.equal((await sh.run('set hq * * responder')).exitCode, 0, 'keys match case-insensitively');
    row = h.router.running().tables[PEERS]![0]!;
    assert.equal(row['Remote-Gateway'], 'hq.example.com:4500');
    assert.equal(row['Role'], 'responder');
    assert.equal((await sh.run('set HQ {sh-t} 300 {Comm} "main hub"')).exitCode, 0);
    row = h.router.running().tables[PEERS]![0]!;
    assert.equal(row['SH-Time'], '300');
    assert.equal(row['Comment'], 'main hub');
    assert.equal(h.router.running().tables[PEERS]!.length, 1);
    const dup = await sh.run('add HQ');
    assert.equal(dup.exitCode, ExitCode.invalidValue);
    assert.match(dup.text, /row HQ exists/);
    assert.equal((await sh.run('add B1 {Type} spoke; add B2')).exitCode, 0);
    assert.equal(h.router.running().tables[PEERS]!.length, 3);
    assert.equal((await sh.run('del b1')).exitCode, 0);
    assert.deepEqual(h.router.running().tables[PEERS]!.map((r) => r['Peer']), ['HQ', 'B2']);
    assert.equal((await sh.run('del NOPE')).exitCode, ExitCode.notFound);
    const ls = await sh.run('ls');
    assert.match(ls.text, /HQ +yes +hq\.example\.com:4500 +responder +hub/);
    // Tables addressed from the parent menu.
    await sh.run('cd ..');
    assert.equal((await sh.run('set Peers B3 {Type} spoke')).exitCode, 0);
    assert.equal((await sh.run('del Peers *')).exitCode, 0);
    assert.equal(h.router.running().tables[PEERS]!.length, 0);
    // Two-key tables.
    await sh.run('cd Mesh/Forwarding-Filter');
    assert.equal((await sh.run('set 10.1.0.0/16 0 deny')).exitCode, 0);
    assert.equal((await sh.run('set 10.1.0.0/16 5 allow')).exitCode, 0);
    assert.equal(h.router.running().tables[`${MESH}/Forwarding-Filter`]!.length, 2);
    assert.equal((await sh.run('del 10.1.0.0/16 0')).exitCode, 0);
    assert.equal((await sh.run('set 10.1.0.0/16')).exitCode, ExitCode.syntax, 'both keys are needed');
    assert.equal((await sh.run('set 10.1.0.0 0')).exitCode, ExitCode.invalidValue);
  } finally {
    h.cleanup();
  }
});

test('an invalid edit is refused naming the parameter and the allowed values, and changes nothing', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    const file = join(h.dir, 'config.json');
    const before = readFileSync(file);
    const seq = h.router.runningSeq();
    const cases: [string, RegExp][] = [
      ['set /Setup/VPN/IKEv2/Mesh/Admin-Distance 300', /Admin-Distance: out of range 0\.\.255.*Possible values: 0\.\.255/],
      ['set /Setup/VPN/IKEv2/Mesh/Operation-Mode Sometimes', /Operation-Mode: invalid value 'Sometimes'\. Possible values: Disabled, Hub, Spoke/],
      ['set /Setup/VPN/IKEv2/Mesh/VPN-Peer-Template NOPE', /VPN-Peer-Template: no row 'NOPE' in \/Setup\/VPN\/IKEv2\/Peers/],
      ['set /Setup/Name "has blanks"', /Name: characters from/],
      ['set /Setup/Name ' + 'x'.repeat(65), /at most 64 characters/],
      ['set /Setup/Config/SSH/Listen-Address 300.1.1.1', /Listen-Address: .*IP address/],
      ['set /Setup/VPN/IKEv2/Peers HQ {Remote-Gateway} "bad host!"', /Remote-Gateway/],
      ['set /Setup/VPN/IKEv2/Peers HQ {Auth} MISSING', /Auth: no row 'MISSING'/],
      ['set /Setup/VPN/IKEv2/Encryption DEFAULT {DH-Groups} DH14,DH99', /DH-Groups: item 'DH99'/],
      ['set /Setup/VPN/IKEv2/Peers HQ {Nope} 1', /no column 'Nope' in \/Setup\/VPN\/IKEv2\/Peers/],
      ['set /Setup/VPN/IKEv2/Peers HQ a b c d e f g h i j k l m n o', /too many values/],
    ];
    for (const [line, re] of cases) {
      const r = await sh.run(line);
      assert.notEqual(r.exitCode, 0, line);
      assert.equal(r.blocks.length, 1, line);
      assert.equal(r.blocks[0]!.kind, 'error', line);
      assert.match(r.text, re, line);
    }
    assert.equal(h.router.runningSeq(), seq);
    assert.deepEqual(readFileSync(file), before);
    // In a candidate too: the refused edit leaves the candidate as it was.
    await sh.run('begin; set /Setup/VPN/IKEv2/Mesh/Group-ID 4');
    assert.equal((await sh.run('set /Setup/VPN/IKEv2/Mesh/Group-ID 70000')).exitCode, ExitCode.invalidValue);
    const cmp = await sh.run('compare');
    assert.equal(cmp.text, '[edit /Setup/VPN/IKEv2/Mesh]\n- Group-ID 0\n+ Group-ID 4');
  } finally {
    h.cleanup();
  }
});

test('transactions in the shell: begin, compare, commit comment, show commits, discard, rollback N', async () => {
  const h = await harness();
  try {
    const a = h.session('alice');
    const b = h.session('bob');
    await a.run('begin');
    await a.run('cd /se/v/ik/mesh; set op hub; set trig hub');
    assert.equal(h.router.get(`${MESH}/Operation-Mode`), 'Disabled', 'nothing applied before commit');
    const cmp = await a.run('compare');
    assert.match(cmp.text, /\[edit \/Setup\/VPN\/IKEv2\/Mesh\]\n- Operation-Mode Disabled\n\+ Operation-Mode Hub\n- Trigger egress\n\+ Trigger hub-redirect/);
    const c = await a.run('commit comment "mesh on"');
    assert.match(c.text, /commit \d+: 2 change\(s\) applied/);
    assert.equal(h.router.get(`${MESH}/Operation-Mode`), 'Hub');
    // Another session sees it at once.
    assert.match((await b.run('ls /Setup/VPN/IKEv2/Mesh')).text, /Operation-Mode +Hub/);
    const sc = await b.run('show commits');
    assert.match(sc.text, /^0 +2026\/01\/01 00:00:00 +alice +mesh on +yes$/m);
    await a.run('begin; set Group-ID 9; discard');
    assert.equal(h.router.get(`${MESH}/Group-ID`), '0');
    const rb = await a.run('rollback 1');
    assert.equal(rb.exitCode, 0);
    assert.equal(h.router.get(`${MESH}/Operation-Mode`), 'Disabled');
    assert.equal((await a.run('rollback 77')).exitCode, ExitCode.syntax);
    assert.equal((await a.run('rollback 20')).exitCode, ExitCode.notFound);
    // rollback inside a candidate loads the revision into it.
    await a.run('begin; rollback 1');
    assert.equal(h.router.get(`${MESH}/Operation-Mode`), 'Disabled');
    await a.run('commit');
    assert.equal(h.router.get(`${MESH}/Operation-Mode`), 'Hub');
    // exit is refused with uncommitted changes.
    await a.run('begin; set Group-ID 3');
    const ex = await a.run('exit');
    assert.equal(ex.exit, false);
    assert.equal(ex.exitCode, ExitCode.runtime);
    const ex2 = await a.run('exit discard');
    assert.equal(ex2.exit, true);
    assert.equal(h.router.get(`${MESH}/Group-ID`), '0');
  } finally {
    h.cleanup();
  }
});

test('commit confirmed N from the shell: rolled back after N minutes unless confirmed', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    await sh.run('begin; set /Setup/VPN/IKEv2/Mesh/Group-ID 11');
    const r = await sh.run('commit confirmed 3');
    assert.match(r.text, /confirm within 3 minute/);
    h.clock.advance(3 * 60_000);
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    assert.equal(h.router.get(`${MESH}/Group-ID`), '0');
    await sh.run('begin; set /Setup/VPN/IKEv2/Mesh/Group-ID 12; commit confirmed 3');
    h.clock.advance(60_000);
    assert.match((await sh.run('commit')).text, /commit confirmed/);
    h.clock.advance(10 * 60_000);
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    assert.equal(h.router.get(`${MESH}/Group-ID`), '12');
    assert.equal((await sh.run('commit confirmed 5')).exitCode, ExitCode.syntax, 'needs a candidate');
  } finally {
    h.cleanup();
  }
});

test('a read-only user can look but gets a permission error on any change', async () => {
  const h = await harness();
  try {
    const ro = h.session('guest', 'read-only');
    for (const line of [
      'set /Setup/Name x',
      'cd /Setup/VPN/IKEv2/Peers; add X',
      'del /Setup/VPN/IKEv2/Peers *',
      'default -r /Setup',
      'begin',
      'commit',
      'rollback 0',
      'confirm',
      'writeconfig',
      'readconfig --with-secrets',
      'do /Other/Config/Rollback 0',
      'do /o/vpn/connect X',
    ]) {
      const r = await ro.run(line);
      assert.equal(r.exitCode, ExitCode.permission, line);
      assert.match(r.text, /permission denied/, line);
    }
    assert.equal(h.router.runningSeq(), 1);
    for (const line of ['ls /', 'ls -r /Setup', 'show config', 'show commits', 'sysinfo', 'readconfig', 'cd /Status', 'trace', 'history']) {
      assert.equal((await ro.run(line)).exitCode, 0, line);
    }
  } finally {
    h.cleanup();
  }
});

test('secrets never appear in ls, show, readconfig, compare, trace, history, logs or the file (hashed password)', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    sh.s; // tracing everything while secrets are set
    await sh.run('trace + *');
    const PW = 'S3cretPassw0rd!';
    const PSK = 'MyPsk-Value-123';
    const DSN = 'mysql://u:DbPa55@db/sites';
    await sh.run(`cd /Setup/Config/Users; set root yes ${PW} admin`);
    await sh.run(`cd /Setup/VPN/IKEv2/Auth/Parameter; set DEFAULT {Local-Password} ${PSK} {Remote-Password} "${PSK}"`);
    await sh.run(`begin; set /Setup/VPN/Site-Directory/MySQL-DSN "${DSN}"`);
    let all = '';
    for (const line of [
      'compare',
      'commit',
      'ls /Setup/Config/Users',
      'ls -r /',
      'ls -a /Setup/VPN/Site-Directory',
      'show config',
      'show config --all',
      'show users',
      'show log',
      'show commits',
      'readconfig',
      'compare 2',
      'history',
      'set /Setup/VPN/Site-Directory/MySQL-DSN ?',
      'ls /Status/Event-Log',
    ]) {
      const r = await sh.run(line);
      assert.equal(r.exitCode, 0, `${line}: ${r.text}`);
      all += r.text + '\n';
    }
    all += sh.events.map((b) => JSON.stringify(b)).join('\n');
    all += h.router.events().map((e) => e.text).join('\n');
    for (const secret of [PW, PSK, DSN, 'DbPa55']) assert.ok(!all.includes(secret), `${secret} leaked`);
    assert.match(all, /Password +Access[\s\S]*root +yes +\* +admin/);
    assert.ok(sh.s.history().some((l) => l.includes('set root yes * admin')), 'history masks the secret');
    // Even malformed lines are masked when they touch secrets.
    await sh.run(`set /Setup/Config/Users root {Pasword} ${PW}`);
    await sh.run(`set /Setup/VPN/Site-Directory/MySQL-DSN ${PSK} extra`);
    await sh.run(`set /Setup/Config/Users root yes ${PW} ?`);
    assert.ok(!sh.s.history().join('\n').includes(PW));
    assert.ok(!sh.s.history().join('\n').includes(PSK));
    const file = readFileSync(join(h.dir, 'config.json'), 'utf8');
    assert.ok(!file.includes(PW), 'no plain password in the config file');
    assert.match(file, /\$argon2id\$/);
    assert.ok(h.router.checkPassword('root', PW));
    assert.equal(h.router.checkPassword('root', 'wrong'), undefined);
    // An admin may ask for them explicitly.
    const ws = await sh.run('readconfig --with-secrets');
    assert.ok(ws.text.includes(PSK));
    assert.ok(!ws.text.includes(PW), 'the password is only ever a hash');
  } finally {
    h.cleanup();
  }
});

test('readconfig -> writeconfig replay reproduces the config on a fresh router', async () => {
  const a = await harness('alpha');
  const b = await harness('beta');
  try {
    const sa = a.session();
    for (const line of [
      'cd /Setup/VPN/IKEv2/Auth/Parameter; set DEFAULT {Local-Password} "psk with blanks \\" and quote"',
      'add SPOKES {Local-ID} hub.example.com {Remote-ID} "*.example.com"',
      'cd /Setup/VPN/IKEv2/Routing; add HUBNETS {Local-Networks} 10.0.0.0/8,fd00::/8 {Remote-Networks} 192.168.0.0/16',
      'cd /Setup/VPN/IKEv2/Peers; set HQ yes 198.51.100.1 initiator hub SPOKES * * * HUBNETS 120 0 "the hub"',
      'cd ../Mesh; set op spoke; set vpn-peer HQ; set Accepted 1,2,3; set Detect HQ',
      'cd Forwarding-Filter; set 10.9.0.0/16 0 deny "no mesh to the lab"',
      'cd /Setup/Config/Users; set root yes pw-of-root admin "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@x"',
      'cd /Setup/Interfaces/LAN; set LAN-1 * 10.1.0.1/24',
      'set /Setup/Licence/Model Central-200',
    ]) {
      const r = await sa.run(line);
      assert.equal(r.exitCode, 0, `${line}: ${r.text}`);
    }
    const script = (await sa.run('readconfig --with-secrets')).text;
    const sb = b.session();
    assert.match((await sb.run('writeconfig')).text, /two empty lines/);
    assert.equal(sb.s.prompt(), 'beta:writeconfig');
    for (const line of script.split('\n')) assert.equal((await sb.run(line)).exitCode, 0);
    await sb.run('');
    const done = await sb.run('');
    assert.equal(done.exitCode, 0, done.text);
    assert.ok(configsEqual(a.router.running() as never, b.router.running() as never), 'identical configs');
    assert.equal(sb.s.prompt(), 'alpha:/', 'the name came along; the path is restored');
    assert.ok(b.router.checkPassword('root', 'pw-of-root'), 'the hash came along');

    // Without secrets: every non-secret value is reproduced, the secrets are kept as they were.
    const c = await harness('gamma');
    try {
      const sc = c.session();
      const plain = (await sa.run('readconfig')).text;
      await sc.run('writeconfig');
      for (const line of plain.split('\n')) await sc.run(line);
      await sc.run('');
      assert.equal((await sc.run('')).exitCode, 0);
      assert.equal((await sc.run('show config')).text, (await sa.run('show config')).text);
    } finally {
      c.cleanup();
    }

    // A failing script applies nothing and names the line.
    const before = b.router.runningSeq();
    await sb.run('writeconfig');
    await sb.run('begin');
    await sb.run('set /Setup/Name changed');
    await sb.run('set /Setup/VPN/IKEv2/Mesh/Admin-Distance 999');
    await sb.run('commit');
    await sb.run('');
    const fail = await sb.run('');
    assert.equal(fail.exitCode, ExitCode.invalidValue);
    assert.match(fail.text, /writeconfig: stopped at line 3; its transaction was discarded, nothing applied/);
    assert.equal(b.router.runningSeq(), before);
    assert.equal(b.router.name, 'alpha');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('? prints context help: commands, children, parameter types, columns, actions', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    assert.match((await sh.run('?')).text, /commit +commit \[check\]/);
    assert.match((await sh.run('co?')).text, /compare[\s\S]*commit[\s\S]*confirm/);
    const kids = await sh.run('cd /se/v/ik/?');
    assert.match(kids.text, /Peers +table +IKEv2 peers/);
    assert.match(kids.text, /Mesh +menu/);
    await sh.run('cd /Setup/VPN/IKEv2/Mesh');
    const p = await sh.run('set Admin-Distance ?');
    assert.equal(p.exitCode, 0);
    assert.match(p.text, /Possible values: 0\.\.255\nDefault: 0\nCurrent: 0/);
    assert.match((await sh.run('set op?')).text, /Possible values: Disabled, Hub, Spoke/);
    assert.match((await sh.run('set Initial ?')).text, /1\.\.3600 s/);
    await sh.run('cd ../Peers');
    assert.match((await sh.run('set ?')).text, /SH-Time +0\.\.65535 s +0 +Short-hold/);
    assert.match((await sh.run('set HQ {Type} ?')).text, /Possible values: static, hub, spoke\nDefault: static/);
    assert.match((await sh.run('do /o/vpn/con ?')).text, /peer +a row key of \/Setup\/VPN\/IKEv2\/Peers/);
    assert.match((await sh.run('show ?')).text, /commits +Committed revisions/);
    assert.match((await sh.run('trace ?')).text, /trace \+ TOPIC/);
    assert.equal(h.router.runningSeq(), 1, 'help changes nothing');
  } finally {
    h.cleanup();
  }
});

test('completion: commands, path elements, enum values, table keys, columns, topics', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    const c = (line: string, cursor = line.length) => sh.s.complete(line, cursor);
    assert.deepEqual(c('co').candidates, ['commit', 'compare', 'configure', 'confirm']);
    assert.deepEqual(c('cd /se/v/i'), { from: 9, candidates: ['IKEv2/'] });
    assert.deepEqual(c('cd /Setup/VPN/IKEv2/Mesh/').candidates, ['Forwarding-Filter/']);
    assert.deepEqual(c('ls /s').candidates, ['Setup/', 'Status/']);
    await sh.run('cd /Setup/VPN/IKEv2/Mesh');
    assert.deepEqual(c('set op'), { from: 4, candidates: ['Operation-Mode'] });
    assert.deepEqual(c('set Operation-Mode ').candidates, ['Disabled', 'Hub', 'Spoke']);
    assert.deepEqual(c('set Operation-Mode s'), { from: 19, candidates: ['Spoke'] });
    assert.deepEqual(c('set Trigger h; l').candidates, ['list', 'logout', 'ls']);
    assert.deepEqual(c('set Trigger h; ls', 13).candidates, ['hub-redirect']);
    await sh.run('cd ../Peers; set HQ; set HUB2; set B1');
    assert.deepEqual(c('set H').candidates, ['HQ', 'HUB2']);
    assert.deepEqual(c('del ').candidates, ['*', 'B1', 'HQ', 'HUB2']);
    assert.deepEqual(c('set HQ {Re').candidates, ['{Remote-Gateway}']);
    assert.deepEqual(c('set HQ {Type} ').candidates, ['hub', 'spoke', 'static']);
    assert.deepEqual(c('set HQ yes host ').candidates, ['auto', 'initiator', 'responder']);
    assert.deepEqual(c('show co').candidates, ['commits', 'config']);
    assert.deepEqual(c('do /o/v').candidates, ['VPN/']);
    assert.deepEqual(c('do /o/vpn/').candidates, ['Connect', 'Disconnect', 'Rekey']);
    assert.deepEqual(c('trace + con').candidates, ['config']);
    assert.deepEqual(c('repeat 2 sh').candidates, ['show']);
    // Never throws, whatever the input.
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(), (line, n) => {
        const r = sh.s.complete(line, n % (line.length + 1));
        assert.ok(Array.isArray(r.candidates));
      }),
      { numRuns: 2000 },
    );
  } finally {
    h.cleanup();
  }
});

test('completion on a table of 10,000 rows lists the matching keys (timing: bench/shell.bench.ts)', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    await sh.run('begin; cd /Setup/IP-Router/Routing-Table');
    for (let i = 0; i < 10_000; i++) await sh.run(`add 10.${i >> 8}.${i & 255}.0/24 0 HQ`);
    assert.equal((await sh.run('commit')).exitCode, 0);
    const r = sh.s.complete('del 10.3', 8);
    const expected = Array.from({ length: 10_000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`).filter((k) => k.startsWith('10.3'));
    assert.deepEqual([...r.candidates].sort(), expected.sort());
    assert.ok(r.candidates.every((c) => c.startsWith('10.3')));
    assert.equal(r.from, 4);
  } finally {
    h.cleanup();
  }
});

test('bad input: random lines never throw out of execute; failures come as one error block', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    const codes = new Set(Object.values(ExitCode));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.stringMatching(/^(ls|cd|set|del|add|show|do|trace|sh|co|d|\?|;| |"|\{|\}|\*|\/|se|v|ik|Peers|HQ|-r|\.\.)*$/),
        ),
        async (line) => {
          const r = await sh.run(line);
          assert.ok(codes.has(r.exitCode as never), `${r.exitCode}`);
          if (r.exitCode !== 0) assert.equal(r.blocks.filter((b) => b.kind === 'error').length, 1);
          if (r.exit) await sh.run('cd /');
        },
      ),
      { numRuns: 1500 },
    );
    const long = await sh.run(`set /Setup/Name ${'x'.repeat(10_000)}`);
    assert.equal(long.exitCode, ExitCode.invalidValue);
    assert.match(long.text, /Name: value too long \(10000 characters\)\. Possible values: max 64 chars/);
    assert.ok(long.text.length < 500, 'the error does not echo the whole line');
    const longCmd = await sh.run('y'.repeat(10_000));
    assert.equal(longCmd.exitCode, ExitCode.syntax);
    assert.ok(longCmd.text.length < 200);
    const ctl = await sh.run('ls\u0007 /');
    assert.equal(ctl.exitCode, ExitCode.syntax);
    assert.match(ctl.text, /control character 0x07 at column 3/);
    const garbage = await sh.run(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x41, 0xc3]).toString('latin1'));
    assert.equal(garbage.exitCode, ExitCode.syntax);
    assert.equal((await sh.run('x'.repeat(70_000))).exitCode, ExitCode.syntax);
    // No error echoes a huge word back.
    for (const line of [`cd /${'a'.repeat(10_000)}`, `ls -r ${'b'.repeat(10_000)}`, `rollback ${'9'.repeat(10_000)}`, `sysinfo ${'c'.repeat(10_000)}`, `trace ${'+'.repeat(10_000)} x`, `set /Setup/VPN/IKEv2/Peers HQ {Type} hub ${'d'.repeat(10_000)}`]) {
      const r = await sh.run(line);
      assert.notEqual(r.exitCode, 0, line.slice(0, 30));
      assert.ok(r.text.length < 400, `${line.slice(0, 30)}: ${r.text.length} characters`);
    }
  } finally {
    h.cleanup();
  }
});

test('trace: event lines with timestamps reach the tracing session; trace - stops them', async () => {
  const h = await harness();
  try {
    const watcher = h.session('watcher');
    const editor = h.session('editor');
    const t = await watcher.run('trace + conf');
    assert.match(t.text, /config +on/);
    await editor.run('set /Setup/VPN/IKEv2/Mesh/Group-ID 2');
    const ev = watcher.events.filter((b) => b.kind === 'event');
    assert.equal(ev.length, 1);
    assert.ok(ev[0]!.kind === 'event' && ev[0]!.topic === 'config' && /commit \d+ by editor: 1 change/.test(ev[0]!.text));
    assert.ok(ev[0]!.kind === 'event' && ev[0]!.time instanceof Date);
    await watcher.run('trace - config');
    await editor.run('set /Setup/VPN/IKEv2/Mesh/Group-ID 3');
    assert.equal(watcher.events.length, 1);
    h.router.registerTraceTopic('mesh', 'Mesh tunnels');
    await watcher.run('trace # mesh');
    h.router.log('mesh', 'tunnel up to B2');
    assert.equal(watcher.events.length, 2);
    assert.equal((await watcher.run('trace + nope')).exitCode, ExitCode.notFound);
    watcher.s.close();
    h.router.log('mesh', 'after close');
    assert.equal(watcher.events.length, 2);
  } finally {
    h.cleanup();
  }
});

test('show --watch and repeat N produce frames on the Router clock until aborted', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    let n = 0;
    h.router.registerShow('counter', { help: 'counts', run: () => [{ kind: 'text', text: `n=${++n}` }] });
    const ac = new AbortController();
    const frames: string[] = [];
    const p = sh.s.execute('show counter --watch 5', {
      sink: { write: () => assert.fail('watch writes frames'), frame: (f) => frames.push(f.map((b) => (b.kind === 'text' ? b.text : '')).join()) },
      signal: ac.signal,
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(frames, ['n=1']);
    h.clock.advance(4_999);
    await new Promise((r) => setImmediate(r));
    assert.equal(frames.length, 1);
    h.clock.advance(1);
    await new Promise((r) => setImmediate(r));
    h.clock.advance(5_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(frames, ['n=1', 'n=2', 'n=3']);
    ac.abort();
    assert.deepEqual(await p, { exitCode: 0, exit: false });
    assert.equal(h.clock.pendingTimers, 0, 'the watch timer is gone');

    const ac2 = new AbortController();
    const rep: number[] = [];
    const p2 = sh.s.execute('repeat 2 sysinfo', { sink: { write: () => undefined, frame: (f) => rep.push(f.length) }, signal: ac2.signal });
    await new Promise((r) => setImmediate(r));
    h.clock.advance(2_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(rep, [1, 1]);
    ac2.abort();
    await p2;
    // Without a signal (scripts), one frame and return.
    const once = await sh.run('show counter --watch');
    assert.equal(once.frames.length, 1);
    assert.equal((await sh.run('repeat 1 set /Setup/Name x')).exitCode, ExitCode.syntax);
  } finally {
    h.cleanup();
  }
});

test('show alone lists the topics modules registered; status views and actions come from modules', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    h.router.registerShow('licence', { help: 'Licence usage', run: () => [{ kind: 'keyvalue', pairs: [['Mesh-Tunnels', '3 / 10']] }] });
    assert.match((await sh.run('show')).text, /licence +Licence usage/);
    assert.match((await sh.run('sh lic')).text, /Mesh-Tunnels: 3 \/ 10/);
    h.router.registerStatusView('mesh.requested-prefixes', () => ({ rows: [['10.2.0.0/16', 'B2', 3, '2026/01/01 00:00:00', 'sent', 'licence exceeded', 20, 280]] }));
    assert.match((await sh.run('ls /st/vpn/mesh/req')).text, /10\.2\.0\.0\/16 +B2 +3 .*licence exceeded +20 +280/);
    assert.match((await sh.run('ls /Status/Licence')).text, /Model: \nVPN-Tunnels: /);
    let got: Record<string, string> | undefined;
    await sh.run('set /Setup/VPN/IKEv2/Peers HQ');
    h.router.registerAction('vpn.connect', (args) => {
      got = { ...args };
      return [{ kind: 'text', text: `connecting ${args['peer']}` }];
    });
    const r = await sh.run('do /o/vpn/con hq');
    assert.equal(r.text, 'connecting HQ');
    assert.deepEqual(got, { peer: 'HQ' });
    assert.equal((await sh.run('do /o/vpn/con NOPE')).exitCode, ExitCode.invalidValue);
    assert.equal((await sh.run('do /o/vpn/con')).exitCode, ExitCode.syntax);
    assert.equal((await sh.run('do /o/vpn/disc')).exitCode, ExitCode.syntax);
    assert.equal((await sh.run('do /o/mesh/clear *')).exitCode, ExitCode.runtime, 'no module yet');
    assert.equal((await sh.run('do Reboot')).exitCode, ExitCode.runtime);
    assert.equal((await sh.run('do /Setup/Name')).exitCode, ExitCode.notFound);
    assert.throws(() => h.router.registerAction('no.such', () => undefined), /unknown action id/);
  } finally {
    h.cleanup();
  }
});

test('ls -r, ls -a, default, sysinfo, history', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    const r = await sh.run('ls -r /Setup/VPN/IKEv2/Mesh');
    assert.equal(r.blocks.length, 2);
    assert.match(r.text, /^\/Setup\/VPN\/IKEv2\/Mesh\nName/);
    assert.match(r.text, /\/Setup\/VPN\/IKEv2\/Mesh\/Forwarding-Filter\nPrefix +Rtg-Tag +Action +Comment/);
    assert.match((await sh.run('ls -a /Setup/Config/SSH')).text, /Port +22 +1\.\.65535 +TCP port/);
    await sh.run('set /Setup/Config/SSH/Port 2222; set /Setup/Config/SSH/Operating yes');
    assert.equal((await sh.run('default /Setup/Config/SSH')).exitCode, ExitCode.syntax, 'a menu needs -r');
    await sh.run('default /Setup/Config/SSH/Port');
    assert.equal(h.router.get('/Setup/Config/SSH/Port'), '22');
    assert.equal(h.router.get('/Setup/Config/SSH/Operating'), 'yes');
    await sh.run('default -r /Setup/Config/SSH');
    assert.equal(h.router.get('/Setup/Config/SSH/Operating'), 'no');
    assert.match((await sh.run('sysinfo')).text, /^DEVICE: meshgate\nVERSION: .*\nNAME: hub\n/);
    const hist = await sh.run('hist');
    assert.match(hist.text, /^ +1 +ls -r \/Setup\/VPN\/IKEv2\/Mesh$/m);
    assert.equal(sh.s.history().length, 8);
  } finally {
    h.cleanup();
  }
});

test('many commands with a signal leave no listeners behind (no leak warnings)', async () => {
  const h = await harness();
  const warnings: string[] = [];
  const onWarn = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarn);
  try {
    const sh = h.session();
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) assert.equal((await sh.run('ls /', ac.signal)).exitCode, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarn);
    h.cleanup();
  }
});

test('edits never change a committed config in place: every edit is a new commit, older snapshots stay as they were', async () => {
  const h = await harness();
  try {
    const sh = h.session();
    const lines = [
      'set /Setup/IP-Router/Routing-Table 10.0.0.0/24 0 HQ',
      'set /Setup/IP-Router/Routing-Table 10.0.1.0/24 0 HQ',
      'set /Setup/IP-Router/Routing-Table 10.0.1.0/24 0 * 5',
      'add /Setup/IP-Router/Routing-Table 10.0.2.0/24 0 HQ',
      'del /Setup/IP-Router/Routing-Table 10.0.0.0/24 0',
      'default /Setup/IP-Router/Routing-Table',
      'set /Setup/IP-Router/Routing-Table 10.0.3.0/24 0 HQ',
      'del /Setup/IP-Router/Routing-Table *',
      'set /Setup/Interfaces/LAN LAN-2',
      'default /Setup/Interfaces/LAN',
    ];
    const snapshots: [object, string][] = [];
    for (const line of lines) {
      const before = h.router.running();
      snapshots.push([before, JSON.stringify(before)]);
      const seq = h.router.runningSeq();
      const r = await sh.run(line);
      assert.equal(r.exitCode, 0, `${line}: ${r.text}`);
      assert.equal(h.router.runningSeq(), seq + 1, `${line} committed`);
      for (const [obj, json] of snapshots) assert.equal(JSON.stringify(obj), json, `${line} changed an older config`);
    }
    // The history rebuilds every revision exactly.
    for (let n = 0; n < snapshots.length; n++) {
      const [obj, json] = snapshots[snapshots.length - 1 - n]!;
      void obj;
      assert.equal(JSON.stringify(h.router.revision(n + 1).config), json, `revision ${n + 1}`);
    }
  } finally {
    h.cleanup();
  }
});
