/**
 * Test helpers for the IKE codec tests: a ChaCha20-Poly1305 Aead on node:crypto (RFC 7634:
 * key material = 32-octet key || 4-octet salt, nonce = salt || 8-octet IV, 16-octet ICV),
 * independent of src/engine/crypto, and builders for messages.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Aead } from '../../../../src/engine/crypto/types.js';

export function chacha20Poly1305(keyMaterial: Uint8Array): Aead {
  if (keyMaterial.length !== 36) throw new RangeError('chacha20-poly1305 needs 36 octets of key material');
  const key = Buffer.from(keyMaterial.subarray(0, 32));
  const salt = Buffer.from(keyMaterial.subarray(32, 36));
  const nonce = (iv: Uint8Array) => Buffer.concat([salt, Buffer.from(iv)]);
  return {
    name: 'chacha20-poly1305',
    keyMaterialLength: 36,
    ivLength: 8,
    icvLength: 16,
    seal(iv, aad, plaintext, out, outOffset = 0) {
      const c = createCipheriv('chacha20-poly1305', key, nonce(iv), { authTagLength: 16 });
      c.setAAD(aad, { plaintextLength: plaintext.length });
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      const tag = c.getAuthTag();
      out.set(ct, outOffset);
      out.set(tag, outOffset + ct.length);
      return ct.length + tag.length;
    },
    open(iv, aad, ciphertextAndIcv, out, outOffset = 0) {
      if (ciphertextAndIcv.length < 16) return -1;
      const n = ciphertextAndIcv.length - 16;
      try {
        const d = createDecipheriv('chacha20-poly1305', key, nonce(iv), { authTagLength: 16 });
        d.setAuthTag(ciphertextAndIcv.subarray(n));
        d.setAAD(aad, { plaintextLength: n });
        const pt = Buffer.concat([d.update(ciphertextAndIcv.subarray(0, n)), d.final()]);
        out.set(pt, outOffset);
        return pt.length;
      } catch {
        return -1;
      }
    },
  };
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** An IV source that counts up from `start` (big-endian 64-bit), as the exchange code will. */
export function counterIv(start = 0n): () => Uint8Array {
  let next = start;
  return () => {
    const iv = new Uint8Array(8);
    new DataView(iv.buffer).setBigUint64(0, next);
    next += 1n;
    return iv;
  };
}

export function bytes(n: number, fill = 0xab): Uint8Array {
  return new Uint8Array(n).fill(fill);
}
