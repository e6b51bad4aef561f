// What pseudonymise keeps of a network address, a User-Agent and a URL. Pure functions of the value
// (and, for a URL, of how a user id in its path is pseudonymised).
import net from 'node:net';

/**
 * IPv4 to its /24 (`93.184.216.0`), IPv6 to its /48 (`2001:db8:85a3::`), an IPv6 address that carries
 * an IPv4 address (EMBEDDED_IPV4) to that IPv4's /24; a port (`1.2.3.4:8080`, `[2001:db8::1]:443`) and
 * a zone (`fe80::1%eth0`) are stripped first. A list (`a, b`) address by address; anything else undefined.
 */
export function truncateIp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!value.includes(',')) return truncateOne(value.trim());
  const parts: string[] = [];
  for (const item of value.split(',')) {
    const one = truncateOne(item.trim());
    if (one === undefined) return undefined;
    parts.push(one);
  }
  return parts.join(', ');
}

/** `1.2.3.4:8080` and `[v6]:443` / `[v6]` to the address alone (a bare IPv6 has colons of its own: no port to strip). */
const WITH_PORT = /^(?:(\d+\.\d+\.\d+\.\d+):\d{1,5}|\[([^\]]+)\](?::\d{1,5})?)$/;

function truncateOne(text: string): string | undefined {
  const port = WITH_PORT.exec(text);
  const ip = port ? (port[1] ?? port[2]!) : text;
  if (net.isIPv4(ip)) return `${ip.slice(0, ip.lastIndexOf('.'))}.0`;
  const zone = ip.indexOf('%');
  if (zone === ip.length - 1) return undefined; // a zone is a name after the `%`
  const address = zone === -1 ? ip : ip.slice(0, zone);
  if (!net.isIPv6(address)) return undefined;
  const groups = expandIPv6(address).map((g) => parseInt(g, 16));
  for (const form of EMBEDDED_IPV4) {
    if (form.is(groups)) {
      const [high, low] = form.ipv4(groups);
      return `${high >> 8}.${high & 0xff}.${low >> 8}.0`;
    }
  }
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}::`;
}

const zeros = (g: readonly number[], from: number, to: number) => g.slice(from, to).every((x) => x === 0);

/**
 * IPv6 forms that carry a client's IPv4 address, and where (its two 16-bit halves): their /48 would
 * keep all or part of it, so they are truncated by that IPv4 instead. Teredo carries the client's
 * address inverted (XOR ffff:ffff) in its last 32 bits; its bits 32–63 are the Teredo server's.
 */
const EMBEDDED_IPV4: readonly { form: string; is(g: readonly number[]): boolean; ipv4(g: readonly number[]): [number, number] }[] = [
  { form: 'IPv4-mapped ::ffff:0:0/96', is: (g) => zeros(g, 0, 5) && g[5] === 0xffff, ipv4: (g) => [g[6]!, g[7]!] },
  { form: 'IPv4-translated ::ffff:0:0:0/96', is: (g) => zeros(g, 0, 4) && g[4] === 0xffff && g[5] === 0, ipv4: (g) => [g[6]!, g[7]!] },
  // (not `::` and `::1`, the unspecified and loopback addresses)
  { form: 'IPv4-compatible ::/96', is: (g) => zeros(g, 0, 6) && g[6] !== 0, ipv4: (g) => [g[6]!, g[7]!] },
  { form: 'NAT64 64:ff9b::/96', is: (g) => g[0] === 0x64 && g[1] === 0xff9b && zeros(g, 2, 6), ipv4: (g) => [g[6]!, g[7]!] },
  { form: '6to4 2002::/16', is: (g) => g[0] === 0x2002, ipv4: (g) => [g[1]!, g[2]!] },
  { form: 'Teredo 2001:0::/32', is: (g) => g[0] === 0x2001 && g[1] === 0, ipv4: (g) => [g[6]! ^ 0xffff, g[7]! ^ 0xffff] },
];

/** The eight groups of an IPv6 address (`::` expanded; a trailing dotted IPv4 part as two groups). */
function expandIPv6(ip: string): string[] {
  let text = ip;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right];
}

/** Browser families by the User-Agent token that names them, most specific first. */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\b(?:OPR|Opera)\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/\bCriOS\/(\d+)/, 'Chrome'],
  [/\bChrome\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/\bcandroid\/(\d+)/i, 'Canvas Android'],
  [/\biCanvas\/(\d+)/, 'Canvas iOS'],
  [/\bTrident\/.*\brv:(\d+)/, 'Internet Explorer'],
  [/\bMSIE (\d+)/, 'Internet Explorer'],
];

/** The browser family and major version (`Chrome 73`), `Other` when no family is recognised; a non-string undefined. */
export function reduceUserAgent(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let out = USER_AGENTS.get(value);
  if (out === undefined) {
    out = 'Other';
    for (const [pattern, family] of BROWSERS) {
      const m = pattern.exec(value);
      if (m) {
        out = `${family} ${m[1]}`;
        break;
      }
    }
    // A few hundred distinct User-Agents make most of a campus's traffic: remembered, within a bound.
    if (USER_AGENTS.size >= 10_000) USER_AGENTS.clear();
    USER_AGENTS.set(value, out);
  }
  return out;
}
const USER_AGENTS = new Map<string, string>();

/** Path segments after which Canvas puts a user id (`/users/565`, `/about/565`, `/courses/1/users/565`). */
const USER_PATH = new Set(['users', 'user', 'about']);
/** A Canvas id as a URL path segment: digits, or a global id `2107~565`. */
const PATH_ID = /^\d+(?:~\d+)?$/;
/** A calendar feed's per-user token (`/feeds/calendars/user_<token>.ics`). */
const FEED_TOKEN = /^user_([A-Za-z0-9]+)(\.\w+)?$/;

/**
 * (Superseded by `reduceUrl` in src/privacy/url.ts, by allowlist; this one goes when the privacy pass
 * calls that. Its tests went with it: test/url.test.ts.)
 * A URL as pseudonymise keeps it: scheme, host and path, with the user ids in the path pseudonymised
 * (`userId`) and a calendar feed's user token too (`token`); userinfo, query and fragment dropped. A
 * relative URL keeps its path the same way. A non-string is undefined.
 */
export function reduceUrl(value: unknown, userId: (id: string) => string, token: (t: string) => string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const query = value.indexOf('?');
  const fragment = value.indexOf('#');
  const end = query < 0 ? fragment : fragment < 0 ? query : Math.min(query, fragment);
  let base = end < 0 ? value : value.slice(0, end);
  // scheme://[userinfo@]host: the userinfo goes.
  const scheme = base.indexOf('://');
  if (scheme > 0 && SCHEME.test(base.slice(0, scheme))) {
    const pathStart = base.indexOf('/', scheme + 3);
    const at = base.lastIndexOf('@', pathStart < 0 ? base.length : pathStart);
    if (at > scheme) base = base.slice(0, scheme + 3) + base.slice(at + 1);
  }
  // Most paths name no user: returned as they are.
  if (!base.includes('/user') && !base.includes('/about/')) return base;
  const segments = base.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (USER_PATH.has(segments[i - 1]!) && PATH_ID.test(segment)) segments[i] = userId(segment);
    else {
      const feed = FEED_TOKEN.exec(segment);
      if (feed) segments[i] = `user_${token(feed[1]!)}${feed[2] ?? ''}`;
    }
  }
  return segments.join('/');
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
