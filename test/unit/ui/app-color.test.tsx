import { test } from 'node:test';
import assert from 'node:assert/strict';

// Colour support is decided when chalk loads, so force it before Ink is imported.
process.env.FORCE_COLOR = '1';
const React = (await import('react')).default;
const { render } = await import('ink-testing-library');
const { App } = await import('../../../src/ui/app.js');
const { stateColor } = await import('../../../src/ui/block-view.js');
const { FakeSession } = await import('./fake-session.js');

test('past output: table header bold, rule dim, state cells coloured; the prompt in Ink bold green', async () => {
  let raw = '';
  const r = render(React.createElement(App, { session: new FakeSession(), output: (s: string) => (raw += s) }));
  await new Promise((res) => setTimeout(res, 20));
  assert.match(r.lastFrame() ?? '', /\x1b\[1m\x1b\[32mhub:\/|\x1b\[32m\x1b\[1mhub:\//);
  r.stdin.write('table\r');
  const end = Date.now() + 2000;
  while (!raw.includes('spoke2') && Date.now() < end) await new Promise((res) => setTimeout(res, 5));
  assert.match(raw, /\x1b\[2m------/);
  assert.match(raw, /\x1b\[1mPeer/);
  assert.match(raw, /\x1b\[32mUP/);
  assert.match(raw, /\x1b\[31mDOWN/);
  r.unmount();
});

test('stateColor only colours state-like columns', () => {
  assert.equal(stateColor('State', 'NEGOTIATING'), 'yellow');
  assert.equal(stateColor('Status', 'up'), 'green');
  assert.equal(stateColor('Peer', 'UP'), undefined);
});
