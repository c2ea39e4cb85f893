import { sign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in for GitHub's meta endpoint: `{ public_keys: [{ key_identifier, key, is_current }] }` with keys made here. */
export class KeyServer {
  keys: Array<{ id: string; privateKey: KeyObject; pem: string }> = [];
  hits = 0;
  /** `up` answers; `reset` drops the connection (as a server that is down); `error` answers 503; `hang` never answers. */
  mode: 'up' | 'reset' | 'error' | 'hang' = 'up';
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  static async start(): Promise<KeyServer> {
    const s = new KeyServer();
    s.server = createServer((req, res) => {
      s.hits++;
      if (s.mode === 'reset') return void req.socket.destroy();
      if (s.mode === 'error') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      if (s.mode === 'hang') return void s.hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ public_keys: s.keys.map((k, i) => ({ key_identifier: k.id, key: k.pem, is_current: i === s.keys.length - 1 })) }));
    });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
    s.addKey();
    return s;
  }

  addKey(): { id: string; privateKey: KeyObject } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const k = { id: randomBytes(32).toString('hex'), privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
    this.keys.push(k);
    return k;
  }

  stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** The headers GitHub sends with an alert: the key id and an ECDSA P-256 / SHA-256 signature over the raw body, base64 DER. */
export function signAlert(body: string | Buffer, key: { id: string; privateKey: KeyObject }): Record<string, string> {
  const signature = sign('sha256', Buffer.from(body), { key: key.privateKey, dsaEncoding: 'der' }).toString('base64');
  return { 'content-type': 'application/json', 'github-public-key-identifier': key.id, 'github-public-key-signature': signature };
}
