// The floor for `npm run bench`: bare node:http that drains the body and returns fixed token-sized JSON.
// No parsing, no client authentication, no signing: what any Node endpoint costs at best on this machine.
import http from 'node:http';

const body = Buffer.from(JSON.stringify({ access_token: 'x'.repeat(440), token_type: 'Bearer', expires_in: 900 }));
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.FLOOR_PORT ?? 4011), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
