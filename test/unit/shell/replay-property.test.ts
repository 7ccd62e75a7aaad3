import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configsEqual, quoteWord } from '../../../src/config/index.js';
import { tokenize } from '../../../src/shell/tokenizer.js';
import { harness } from './harness.js';

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 });

test('quoteWord output tokenizes back to the same single word, whatever the text', () => {
  fc.assert(
    fc.property(printable, (s) => {
      const toks = tokenize(`set ${quoteWord(s)}`).segments[0]!.tokens;
      assert.equal(toks.length, 2);
      assert.equal(toks[1]!.text, s);
      assert.equal(toks[1]!.column, false);
      if (s === '*' || s.endsWith('?')) assert.equal(toks[1]!.quoted, true);
    }),
    { numRuns: 5000 },
  );
});

test('random configs survive readconfig --with-secrets -> writeconfig into a fresh router', async () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,9}$/);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('peer' as const), key: name, comment: printable, type: fc.constantFrom('static', 'hub', 'spoke'), sh: fc.integer({ min: 0, max: 65535 }) }),
    fc.record({ kind: fc.constant('filter' as const), a: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 8, max: 32 }), tag: fc.integer({ min: 0, max: 9 }), deny: fc.boolean(), comment: printable }),
    fc.record({ kind: fc.constant('mesh' as const), mode: fc.constantFrom('Disabled', 'Hub', 'Spoke'), group: fc.integer({ min: 0, max: 65535 }), groups: fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('psk' as const), psk: printable }),
    fc.record({ kind: fc.constant('del' as const), key: name }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 12 }), async (edits) => {
      const a = await harness('src');
      const b = await harness('dst');
      try {
        const sa = a.session();
        await sa.run('begin');
        for (const e of edits) {
          let line: string;
          if (e.kind === 'peer') line = `set /Setup/VPN/IKEv2/Peers ${e.key} {Type} ${e.type} {SH-Time} ${e.sh} {Comment} ${quoteWord(e.comment)}`;
          else if (e.kind === 'filter') line = `set /Setup/VPN/IKEv2/Mesh/Forwarding-Filter 10.${e.a}.0.0/${e.len} ${e.tag} ${e.deny ? 'deny' : 'allow'} ${quoteWord(e.comment)}`;
          else if (e.kind === 'mesh') line = `cd /Setup/VPN/IKEv2/Mesh; set Operation-Mode ${e.mode}; set Group-ID ${e.group}; set Accepted-Group-IDs ${quoteWord(e.groups.join(','))}; cd /`;
          else if (e.kind === 'psk') line = `set /Setup/VPN/IKEv2/Auth/Parameter DEFAULT {Local-Password} ${quoteWord(e.psk)}`;
          else line = `del /Setup/VPN/IKEv2/Peers ${e.key}`;
          const r = await sa.run(line);
          if (e.kind !== 'del' && e.kind !== 'filter') assert.equal(r.exitCode, 0, `${line}: ${r.text}`);
        }
        assert.equal((await sa.run('commit')).exitCode, 0);
        const script = (await sa.run('readconfig --with-secrets')).text.split('\n');
        const sb = b.session();
        await sb.run('writeconfig');
        for (const l of script) await sb.run(l);
        await sb.run('');
        const end = await sb.run('');
        assert.equal(end.exitCode, 0, end.text);
        assert.ok(configsEqual(a.router.running() as never, b.router.running() as never), script.join('\n'));
      } finally {
        a.cleanup();
        b.cleanup();
      }
    }),
    { numRuns: 40 },
  );
});
