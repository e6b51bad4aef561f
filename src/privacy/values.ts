// What pseudonymise keeps of a network address and a User-Agent (URLs: url.ts). Pure functions of the value.
import net from 'node:net';

/**
 * IPv4 to its /24 (`93.184.216.0`), IPv6 to its /48 (`2001:db8:85a3::`), an IPv6 address that carries
 * an IPv4 address (EMBEDDED_IPV4) to that IPv4's /24; a port (`1.2.3.4:8080`, `[2001:db8::1]:443`) and
 * a zone (`fe80::1%eth0`) are stripped first. A list (`a, b`) address by address; anything else undefined.
 */
export function truncateIp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // A user's requests come from one address, a campus's from a few thousand: remembered, within a bound.
  let out = TRUNCATED.get(value);
  if (out === undefined && !TRUNCATED.has(value)) {
    out = truncateList(value);
    if (TRUNCATED.size >= 10_000) TRUNCATED.clear();
    TRUNCATED.set(value, out);
  }
  return out;
}
const TRUNCATED = new Map<string, string | undefined>();

function truncateList(value: string): string | undefined {
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

