import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tokenize, MAX_LINE_LENGTH } from '../../../src/shell/tokenizer.js';

const texts = (line: string) => tokenize(line).segments.map((s) => s.tokens.map((t) => (t.column ? `{${t.text}}` : t.text)));

test('words, quotes, escapes', () => {
  assert.deepEqual(texts('set  Name   hub'), [['set', 'Name', 'hub']]);
  assert.deepEqual(texts('set Comment "a b; c" x'), [['set', 'Comment', 'a b; c', 'x']]);
  assert.deepEqual(texts(`set C 'it''s' "q\\"x\\\\" a\\ b`), [['set', 'C', 'its', 'q"x\\', 'a b']]);
  assert.deepEqual(texts('set C ""'), [['set', 'C', '']]);
  assert.deepEqual(texts('set C "tab\\there"'), [['set', 'C', 'tab\there']]);
});

test('; separates commands outside quotes; empty segments vanish', () => {
  assert.deepEqual(texts('cd /; ls ;; ls -r;'), [['cd', '/'], ['ls'], ['ls', '-r']]);
  assert.deepEqual(texts('   '), []);
});

test('{Column} tokens, but not when quoted', () => {
  const seg = tokenize('set HQ {Remote-Gateway} 1.2.3.4 "{x}"').segments[0]!;
  assert.equal(seg.tokens[2]!.column, true);
  assert.equal(seg.tokens[2]!.text, 'Remote-Gateway');
  assert.equal(seg.tokens[4]!.column, false);
  assert.equal(seg.tokens[4]!.text, '{x}');
});

test('offsets point into the line', () => {
  const line = 'set  "a b"  c';
  const toks = tokenize(line).segments[0]!.tokens;
  assert.equal(line.slice(toks[1]!.start, toks[1]!.end), '"a b"');
  assert.equal(toks[1]!.quoted, true);
});

test('comments', () => {
  assert.deepEqual(texts('  # a comment; with ; semicolons'), []);
  assert.deepEqual(texts('set C a#b'), [['set', 'C', 'a#b']]);
});

test('errors: unterminated quotes, dangling backslash, control characters, huge lines', () => {
  assert.throws(() => tokenize('set C "abc'), { name: 'ShellSyntaxError', message: /unterminated double quote/ });
  assert.throws(() => tokenize("set C 'abc"), { name: 'ShellSyntaxError' });
  assert.throws(() => tokenize('set C abc\\'), { name: 'ShellSyntaxError', message: /dangling backslash/ });
  assert.throws(() => tokenize('set C a\u0000b'), { name: 'ShellSyntaxError', message: /control character 0x00 at column 8/ });
  assert.throws(() => tokenize('ls\u001b[A'), { name: 'ShellSyntaxError', message: /0x1b/ });
  assert.throws(() => tokenize('x'.repeat(MAX_LINE_LENGTH + 1)), { name: 'ShellSyntaxError', message: /too long/ });
  assert.equal(tokenize('a'.repeat(10_000)).segments[0]!.tokens[0]!.text.length, 10_000);
});

test('partial mode accepts an open quote (completion)', () => {
  const r = tokenize('set C "ab', { partial: true });
  assert.equal(r.openQuote, '"');
  assert.equal(r.segments[0]!.tokens[2]!.text, 'ab');
});

test('random lines: tokenize either succeeds or throws ShellSyntaxError, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[a-z "'\\;{}?#*\t\n]{0,40}$/)), (line) => {
      try {
        const r = tokenize(line);
        for (const s of r.segments) for (const t of s.tokens) assert.ok(t.start < t.end && t.end <= line.length);
      } catch (err) {
        assert.equal((err as Error).name, 'ShellSyntaxError');
      }
    }),
    { numRuns: 5000 },
  );
});
