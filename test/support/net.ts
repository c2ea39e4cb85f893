import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1 (for servers the tests and benches start). */
export function sparePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}
