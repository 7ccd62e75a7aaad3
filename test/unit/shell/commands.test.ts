import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, resolveCommand } from '../../../src/shell/index.js';

test('every command has help and usage, and every name and alias resolves to it', () => {
  const seen = new Set<string>();
  for (const c of COMMANDS) {
    assert.ok(c.help.length > 10, c.name);
    assert.ok(c.usage.startsWith(c.name), `${c.name}: usage starts with the name`);
    for (const n of [c.name, ...(c.aliases ?? [])]) {
      assert.ok(!seen.has(n), `${n} declared twice`);
      seen.add(n);
      assert.equal(resolveCommand(n), c, n);
      assert.equal(resolveCommand(n.toUpperCase()), c, `${n} in upper case`);
    }
  }
  for (const need of ['ls', 'dir', 'cd', 'set', 'add', 'del', 'show', 'do', 'trace', 'readconfig', 'writeconfig', 'default', 'history', 'sysinfo', 'exit', 'begin', 'compare', 'commit', 'confirm', 'discard', 'abort', 'rollback', 'repeat'])
    assert.ok(seen.has(need), need);
});

test('abbreviations: unique prefixes resolve, shared ones are ambiguous with the candidates, unknown words are syntax errors', () => {
  assert.equal(resolveCommand('sysi').name, 'sysinfo');
  assert.equal(resolveCommand('wr').name, 'writeconfig');
  assert.equal(resolveCommand('reads').name, 'readconfig');
  assert.equal(resolveCommand('comm').name, 'commit');
  assert.throws(() => resolveCommand('co'), (err: Error & { candidates?: string[] }) => {
    assert.equal(err.name, 'AmbiguousError');
    assert.deepEqual(err.candidates, ['commit', 'compare', 'configure', 'confirm']);
    return true;
  });
  assert.throws(() => resolveCommand('d'), { name: 'AmbiguousError' });
  assert.throws(() => resolveCommand(''), { name: 'ShellSyntaxError' });
  assert.throws(() => resolveCommand('zzz'), { name: 'ShellSyntaxError', message: /unknown command 'zzz'/ });
});
