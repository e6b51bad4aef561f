// Canvas's HTTPS delivery, played locally: a JWKS served on a loopback port with a signing key made at
// start (more can be added: key rotation), and a sender that posts events as signed JWTs, as Canvas
// does. For `npm start -- --ingest https`, the tests and the load bench.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface LocalSigner {
  /** The JWKS's URL (CANVAS_JWKS_URL). */
  url: string;
  /** The kid tokens are signed with by default: the newest key. */
  kid: string;
  /** Signs `payload` as Canvas would (RS256, the kid in the header, iat now); `exp` in seconds from now when given. */
  sign(payload: JWTPayload, options?: { kid?: string; expiresInS?: number }): Promise<string>;
  /** Makes a new key and publishes it in the JWKS (it becomes the default kid); returns its kid. */
  rotate(): Promise<string>;
  /** The private key of `kid`, to sign tokens with claims `sign` does not set. */
  privateKey(kid: string): CryptoKey;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  stop(): Promise<void>;
}

export async function startLocalSigner(): Promise<LocalSigner> {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  let fetches = 0;
  const server = http.createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  let current = '';
  const rotate = async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const kid = crypto.randomUUID();
    keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
    current = kid;
    return kid;
  };
  await rotate();
  return {
    url,
    get kid() {
      return current;
    },
    get fetches() {
      return fetches;
    },
    sign: async (payload, options = {}) => {
      const kid = options.kid ?? current;
      const key = keys.get(kid);
      if (!key) throw new Error(`no local key ${kid}`);
      const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).setIssuedAt();
      if (options.expiresInS !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresInS);
      return jwt.sign(key.privateKey);
    },
    rotate,
    privateKey: (kid) => keys.get(kid)!.privateKey,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs one body to `url` (keep-alive agent); resolves with the status and the answer's text. */
export function post(url: string, body: string, agent?: http.Agent, method = 'POST'): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'content-type': 'application/jwt', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
