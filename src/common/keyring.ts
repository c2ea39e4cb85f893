import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** A short public name for a key: it names the key in sealed values and hashes without revealing it. */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('key-id').digest('hex').slice(0, 12);
}

/**
 * The master keys: the current one seals, every configured one opens. A sealed value names its key:
 * `v2.<key id>.<nonce>.<ciphertext>.<tag>` (AES-256-GCM, base64url). Values sealed before key ids existed
 * (`v1.<nonce>.<ciphertext>.<tag>`) are opened by trying each configured key; the GCM tag tells which fits.
 */
export class Keyring {
  readonly currentId: string;
  private readonly byId = new Map<string, Buffer>();

  constructor(
    readonly current: Buffer,
    readonly previous: Buffer[] = [],
  ) {
    for (const k of [current, ...previous]) {
      if (k.length !== 32) throw new Error('a master key is exactly 32 bytes');
      this.byId.set(keyId(k), k);
    }
    this.currentId = keyId(current);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  seal(plaintext: string | Buffer, aad = ''): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, nonce);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return ['v2', this.currentId, nonce.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, aad = ''): Buffer {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.byId.get(parts[1]);
      if (!key) throw new Error(`sealed under key ${parts[1]}, which is not configured (MASTER_KEY or MASTER_KEY_PREVIOUS)`);
      return decrypt(key, parts[2], parts[3], parts[4], aad);
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      for (const key of this.byId.values()) {
        try {
          return decrypt(key, parts[1], parts[2], parts[3], aad);
        } catch {
          // the next key may be the one
        }
      }
      throw new Error('sealed value opens with none of the configured master keys');
    }
    throw new Error('sealed value has an unknown format');
  }

  /** The key id a sealed value names; null for values sealed before key ids existed. */
  static idOf(sealed: string): string | null {
    const parts = sealed.split('.');
    return parts[0] === 'v2' && parts.length === 5 ? parts[1] : null;
  }
}

function decrypt(key: Buffer, nonce: string, ct: string, tag: string, aad: string): Buffer {
  // A full 16-byte tag only: GCM would otherwise accept a truncated one, which is far easier to forge.
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
}
