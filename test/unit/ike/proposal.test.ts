import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptEspChoice, acceptIkeChoice, chooseEsp, chooseIke, espProposals, ikeProposals, ikeSuiteName, parseEspProposal, parseIkeProposal } from '../../../src/engine/ike/proposal.js';

test('strongSwan keywords parse into transform lists; unknown words name the field', () => {
  const p = parseIkeProposal('aes256gcm16-prfsha384-x25519-ecp256');
  assert.deepEqual(p, { encr: [{ id: 20, keyBits: 256 }], prf: [6], dh: [31, 19] });
  assert.throws(() => parseIkeProposal('aes256gcm16-md5-x25519', 'ikeProposals[0]'), (e: Error & { field?: string }) => e.name === 'IkeConfigError' && e.field === 'ikeProposals[0]' && /md5/.test(e.message));
  assert.throws(() => parseIkeProposal('aes256gcm16-x25519'), /no PRF/);
  assert.deepEqual(parseEspProposal('chacha20poly1305-x25519'), { encr: [{ id: 28 }], dh: [31] });
});

test('responder picks the first of the initiator proposals that its policy allows, preferring the KE group', () => {
  const offered = ikeProposals([parseIkeProposal('chacha20poly1305-prfsha256-x25519'), parseIkeProposal('aes128gcm16-prfsha256-ecp256-x25519')]);
  const local = [parseIkeProposal('aes128gcm16-aes256gcm16-prfsha256-prfsha512-ecp256-x25519')];
  const c = chooseIke(offered, local, 19)!;
  assert.equal(c.proposal.number, 2);
  assert.equal(ikeSuiteName(c.suite), 'aes128gcm16-prfsha256-ecp256');
  assert.equal(c.proposal.transforms.length, 3);
  // With a KE of a group it would not pick, the choice still names a group (INVALID_KE follows).
  const c2 = chooseIke(ikeProposals([parseIkeProposal('aes128gcm16-prfsha256-x25519-ecp256')]), [parseIkeProposal('aes128gcm16-prfsha256-ecp256')], 31)!;
  assert.equal(c2.suite.dh, 19);
  assert.equal(chooseIke(offered, [parseIkeProposal('aes256gcm16-prfsha512-ecp256')], 19), undefined);
  // The initiator accepts only something it offered.
  const specs = [parseIkeProposal('chacha20poly1305-prfsha256-x25519')];
  assert.deepEqual(acceptIkeChoice([c.proposal], specs), undefined);
  const mine = chooseIke(ikeProposals(specs), specs, 31)!;
  assert.deepEqual(acceptIkeChoice([mine.proposal], specs), { encr: { id: 28 }, prf: 5, dh: 31 });
  assert.equal(acceptIkeChoice([mine.proposal, mine.proposal], specs), undefined);
});

test('ESP: SPI travels in the proposal; PFS needs a matching KE', () => {
  const specs = [parseEspProposal('aes256gcm16-x25519')];
  const offered = espProposals(specs, 0x12345678, true);
  assert.equal(offered[0]!.spi.length, 4);
  assert.equal(chooseEsp(offered, specs, undefined), undefined, 'PFS offered but no KE');
  const c = chooseEsp(offered, specs, 31)!;
  assert.equal(c.peerSpi, 0x12345678);
  assert.deepEqual(c.suite, { encr: { id: 20, keyBits: 256 }, dh: 31 });
  const answer = { ...c.proposal, spi: Uint8Array.of(0, 0, 1, 0) };
  assert.deepEqual(acceptEspChoice([answer], specs, 31), { suite: c.suite, peerSpi: 256 });
  assert.equal(acceptEspChoice([answer], specs, undefined), undefined);
  const noPfs = espProposals([parseEspProposal('chacha20poly1305')], 999, false);
  assert.deepEqual(chooseEsp(noPfs, [parseEspProposal('aes128gcm16-chacha20poly1305')], undefined)?.suite, { encr: { id: 28 } });
});
