// A stand-in for Twilio's Messages API and Lookup v2 (every number a mobile line without a SIM change), for trying the service without a Twilio account (docker compose
// --profile trial). It accepts what the service sends and shows the messages at http://localhost:8026/.
// Never point a real deployment at it: partners would receive nothing.
import { createServer } from 'node:http';

const port = Number(process.env.PORT || 8026);
const messages = [];
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const send = url.pathname.match(/^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/);
  if (req.method === 'POST' && send) {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const m = {
        sid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
        to: form.get('To') ?? '',
        from: form.get('From') ?? '',
        body: form.get('Body') ?? '',
        at: new Date().toISOString(),
      };
      messages.unshift(m);
      messages.length = Math.min(messages.length, 200);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          sid: m.sid,
          account_sid: send[1],
          to: m.to,
          from: m.from,
          body: m.body,
          status: 'queued',
          num_segments: '1',
          direction: 'outbound-api',
        }),
      );
    });
    return;
  }
  const lookup = url.pathname.match(/^\/v2\/PhoneNumbers\/([^/]+)$/);
  if (req.method === 'GET' && lookup) {
    const number = decodeURIComponent(lookup[1]);
    const fields = new Set((url.searchParams.get('Fields') ?? '').split(','));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        phone_number: number,
        valid: true,
        validation_errors: [],
        calling_country_code: null,
        country_code: null,
        national_format: number,
        line_type_intelligence: fields.has('line_type_intelligence')
          ? { type: 'mobile', carrier_name: 'Stand-in', mobile_country_code: null, mobile_network_code: null, error_code: null }
          : null,
        sim_swap: fields.has('sim_swap')
          ? {
              last_sim_swap: { last_sim_swap_date: null, swapped_period: 'PT8760H', swapped_in_period: false },
              carrier_name: 'Stand-in',
              mobile_country_code: null,
              mobile_network_code: null,
              error_code: null,
            }
          : null,
        url: `https://lookups.twilio.com/v2/PhoneNumbers/${number}`,
      }),
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/messages.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(messages));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/') {
    const rows = messages.map((m) => `<tr><td>${escape(m.at)}</td><td>${escape(m.to)}</td><td>${escape(m.body)}</td></tr>`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>SMS stand-in</title><h1>SMS the service sent (stand-in, not delivered)</h1><table border="1" cellpadding="4"><tr><th>time</th><th>to</th><th>text</th></tr>${rows || '<tr><td colspan="3">none yet</td></tr>'}</table>`,
    );
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code: 20404, message: 'not found' }));
}).listen(port, '0.0.0.0', () => console.log(`Twilio stand-in listening on :${port}; messages at / and /messages.json`));
