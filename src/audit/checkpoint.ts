import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** What a checkpoint vouches for: the chain's head at one moment, signed with a key the database never holds. */
export interface CheckpointBody {
  seq: string;
  headHash: string;
  keyedFrom: string;
  signedAt: string;
  keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  type: 'audit-checkpoint';
  version: 1;
  /** Ed25519 over `signedText(body)`, base64. */
  signature: string;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 private key whose 32-byte seed is AUDIT_CHECKPOINT_KEY. */
export function checkpointPrivateKey(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

export function publicKeyPem(key: KeyObject): string {
  return publicOf(key).export({ format: 'pem', type: 'spki' }).toString();
}

/** A PEM (SPKI) public key as `audit:checkpoint-key` prints it. */
export function parsePublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint public key must be an Ed25519 key');
  return key;
}

/** Short fingerprint of the public key, so a reader sees which key signed a checkpoint. */
export function keyIdOf(key: KeyObject): string {
  const der = publicOf(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function signedText(b: CheckpointBody): Buffer {
  return Buffer.from(['audit-checkpoint/v1', b.seq, b.headHash, b.keyedFrom, b.signedAt, b.keyId].join('\n'), 'utf8');
}

export function signCheckpoint(privateKey: KeyObject, body: Omit<CheckpointBody, 'keyId'>): SignedCheckpoint {
  const full: CheckpointBody = { ...body, keyId: keyIdOf(privateKey) };
  return { type: 'audit-checkpoint', version: 1, ...full, signature: sign(null, signedText(full), privateKey).toString('base64') };
}

/** Parses and checks one checkpoint file's text; the reason says why it is not acceptable. */
export function checkCheckpoint(publicKey: KeyObject, text: string): { ok: true; checkpoint: SignedCheckpoint } | { ok: false; reason: string } {
  let c: SignedCheckpoint;
  try {
    c = JSON.parse(text) as SignedCheckpoint;
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (c?.type !== 'audit-checkpoint' || c.version !== 1) return { ok: false, reason: 'not an audit checkpoint (type/version)' };
  const wellFormed =
    typeof c.seq === 'string' &&
    /^\d{1,18}$/.test(c.seq) &&
    typeof c.headHash === 'string' &&
    /^[0-9a-f]{64}$/.test(c.headHash) &&
    typeof c.keyedFrom === 'string' &&
    /^\d{1,18}$/.test(c.keyedFrom) &&
    typeof c.signedAt === 'string' &&
    typeof c.keyId === 'string' &&
    typeof c.signature === 'string';
  if (!wellFormed) return { ok: false, reason: 'malformed checkpoint' };
  if (c.keyId !== keyIdOf(publicKey)) return { ok: false, reason: `signed by another key (${c.keyId})` };
  const good = verify(null, signedText(c), publicKey, Buffer.from(c.signature, 'base64'));
  return good ? { ok: true, checkpoint: c } : { ok: false, reason: 'the signature does not verify' };
}

export function checkpointFileName(c: CheckpointBody): string {
  return `audit-checkpoint-${c.seq.padStart(12, '0')}-${c.signedAt.replace(/[-:.]/g, '')}.json`;
}
