// truncateIp (src/privacy/values.ts): what pseudonymise keeps of a client IP. An IPv6 address that
// carries an IPv4 address is truncated by that IPv4, as its /48 would keep all or part of it; a port
// and a zone are stripped, then the address truncated.
import { describe, expect, it } from 'vitest';
import { truncateIp } from '../src/privacy/values.js';

describe('truncateIp', () => {
  it.each([
    ['93.184.216.34', '93.184.216.0'],
    ['2001:db8::1', '2001:db8:0::'],
    ['2001:DB8:ABCD:12::1', '2001:db8:abcd::'],
    // IPv6 forms that embed an IPv4 address: its /24
    ['::ffff:93.184.216.34', '93.184.216.0'], // IPv4-mapped, dotted
    ['::ffff:5db8:d822', '93.184.216.0'], // IPv4-mapped, in hex
    ['::ffff:0:93.184.216.34', '93.184.216.0'], // IPv4-translated
    ['::93.184.216.34', '93.184.216.0'], // IPv4-compatible
    ['::1', '0:0:0::'], // loopback and unspecified: not IPv4-compatible
    ['::', '0:0:0::'],
    ['64:ff9b::93.184.216.34', '93.184.216.0'], // NAT64
    ['64:ff9b::5db8:d822', '93.184.216.0'],
    ['2002:5db8:d822::1', '93.184.216.0'], // 6to4: its /48 was the whole IPv4
    ['2002:5db8:d822:1:2:3:4:5', '93.184.216.0'],
    ['2001:0000:4136:e378:8000:63bf:3fff:fdd2', '192.0.2.0'], // Teredo, RFC 4380's example: client 192.0.2.45
    ['2001:0:4136:e378:8000:63bf:a247:27dd', '93.184.216.0'], // Teredo: client 93.184.216.34 (a247:27dd XOR ffff:ffff)
    // ports and zones
    ['93.184.216.34:8080', '93.184.216.0'],
    ['[2001:db8::1]:443', '2001:db8:0::'],
    ['[2001:db8::1]', '2001:db8:0::'],
    ['[2002:5db8:d822::1]:443', '93.184.216.0'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['[fe80::1%25eth0]:80', 'fe80:0:0::'],
    // lists, address by address
    ['93.184.216.34, 10.1.2.3', '93.184.216.0, 10.1.2.0'],
    ['93.184.216.34:1, 2002:5db8:d822::1', '93.184.216.0, 93.184.216.0'],
  ])('%s → %s', (input, expected) => expect(truncateIp(input)).toBe(expected));

  it.each(['not an ip', '93.184.216.34:', '93.184.216.34:port', '[93.184.216.34]x', '2001:db8::1:443:1:2:3:4:5', '[2001:db8::1', 'fe80::1%', '1.2.3.4, x', ''])('%j is not an address: undefined', (input) => {
    expect(truncateIp(input)).toBeUndefined();
  });

  it('keeps no bit of an embedded IPv4 beyond its /24 in any form (every form of 203.0.113.77)', () => {
    const v4 = [203, 0, 113, 77];
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    const inverted = (a: number, b: number) => (((a << 8) | b) ^ 0xffff).toString(16);
    const forms = [
      `::ffff:${v4.join('.')}`,
      `::ffff:${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}`,
      `::ffff:0:${v4.join('.')}`,
      `::${v4.join('.')}`,
      `64:ff9b::${v4.join('.')}`,
      `2002:${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}::1`,
      `2001:0:4136:e378:8000:63bf:${inverted(v4[0]!, v4[1]!)}:${inverted(v4[2]!, v4[3]!)}`,
    ];
    for (const form of forms) {
      expect(truncateIp(form), form).toBe('203.0.113.0');
      expect(truncateIp(`[${form}]:443`), form).toBe('203.0.113.0');
    }
  });
});
