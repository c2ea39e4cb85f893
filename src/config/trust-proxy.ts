import { isIP } from 'node:net';

/**
 * Whom to believe about the client's address. `hops`: that many proxies stand in front of the service,
 * each appending to X-Forwarded-For, and the client is the address the outermost one saw. `addresses`: the
 * proxies' own addresses or CIDR ranges; X-Forwarded-For is read right to left up to the first address
 * that is not one of them. Never "everything": a client could then choose its own address.
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const EXAMPLE =
  'set the number of proxies in front of the service (e.g. TRUST_PROXY=1) or their addresses or CIDR ranges (e.g. TRUST_PROXY=10.0.0.0/8,192.0.2.7)';

export function trustProxyFrom(raw: string | undefined, problems: string[]): TrustProxy {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false' || value === '0') return false;
  if (/^(true|yes|on|all|\*)$/i.test(value)) {
    problems.push(
      `TRUST_PROXY=${value} would believe any X-Forwarded-For a client sends, so every per-IP limit and every audited address would be theirs to choose; ${EXAMPLE}`,
    );
    return false;
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) problems.push(`TRUST_PROXY must be a hop count from 0 to 10 (got ${value}); ${EXAMPLE}`);
    return hops > 0 && hops <= 10 ? { hops } : false;
  }
  const addresses = value
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = addresses.filter((a) => !isAddressOrRange(a));
  if (bad.length) {
    problems.push(`TRUST_PROXY has entries that are not IP addresses or CIDR ranges: ${bad.map((b) => `"${b}"`).join(', ')}; ${EXAMPLE}`);
    return false;
  }
  return { addresses };
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [ip, prefix, extra] = entry.split('/');
  const family = isIP(ip);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The setting in the form Fastify's `trustProxy` takes (its own numeric form trusts no hop at all). */
export function fastifyTrustProxy(setting: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (!setting) return false;
  if ('hops' in setting) {
    const hops = setting.hops;
    return (_address: string, hop: number) => hop < hops;
  }
  return setting.addresses;
}
