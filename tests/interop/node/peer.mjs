// jose (npm) as an interop peer of warden.
//   node peer.mjs mint OUT.json      one token per algorithm (and an expired HS256 token),
//                                    vectors format (SPEC §4)
//   node peer.mjs verify PROBES.json "name<TAB>accept|reject" per probe, alg pinned (informational)
import { readFileSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import * as jose from 'jose';

const NOW = 1700000000;
const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const b64 = (b) => Buffer.from(b).toString('base64url');

async function mint(out) {
  // One RSA key serves RS* and PS* (as with the other peers); jose binds a
  // generated CryptoKey to one algorithm, so import the same key per alg.
  const rsa = await jose.generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const rsaPrivJwk = await jose.exportJWK(rsa.privateKey);
  const rsaPubJwk = await jose.exportJWK(rsa.publicKey);
  const keys = {};
  for (const alg of ALGS) {
    if (alg.startsWith('HS')) {
      const secret = webcrypto.getRandomValues(new Uint8Array(Number(alg.slice(2)) / 8));
      keys[alg] = { sign: secret, jwk: { kty: 'oct', k: b64(secret) } };
    } else if (alg.startsWith('RS') || alg.startsWith('PS')) {
      keys[alg] = { sign: await jose.importJWK(rsaPrivJwk, alg), jwk: { ...rsaPubJwk } };
    } else {
      const opts = alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true };
      const kp = await jose.generateKeyPair(alg, opts);
      keys[alg] = { sign: kp.privateKey, jwk: await jose.exportJWK(kp.publicKey) };
    }
  }
  const jwks = [];
  const cases = [];
  for (const alg of ALGS) {
    const kid = `jose-${alg.toLowerCase()}`;
    const { alg: _a, kid: _k, use: _u, key_ops: _o, ext: _e, ...jwk } = keys[alg].jwk;
    jwks.push({ ...jwk, alg, kid });
    const sub = `jose-${alg}`;
    const token = await new jose.SignJWT({ iss: 'https://interop.example', sub, iat: NOW - 60, exp: NOW + 3600 })
      .setProtectedHeader({ alg, kid })
      .sign(keys[alg].sign);
    cases.push({ name: `jose ${alg}`, now: NOW, jwt: token, expect: 'ok', expect_fields: { subject: sub, kid } });
  }
  const expired = await new jose.SignJWT({ sub: 'jose-HS256', exp: NOW - 1 })
    .setProtectedHeader({ alg: 'HS256', kid: 'jose-hs256' })
    .sign(keys.HS256.sign);
  cases.push({ name: 'jose HS256 expired 1 s ago', now: NOW, jwt: expired, expect: 'expired' });
  const spki = await jose.exportSPKI(await jose.importJWK(rsaPubJwk, 'RS256'));
  const peer = { rsa_public_pem: spki + '\n', hs256_secret: keys.HS256.jwk.k };
  writeFileSync(out, JSON.stringify({ config: { jwt: { jwks: { keys: jwks } } }, cases, peer }, null, 1));
}

async function verify(path) {
  for (const p of JSON.parse(readFileSync(path, 'utf8'))) {
    let verdict = 'reject';
    try {
      const key = await jose.importJWK(p.key, p.alg);
      await jose.jwtVerify(p.token, key, { algorithms: [p.alg], requiredClaims: ['exp'] });
      verdict = 'accept';
    } catch {
      verdict = 'reject';
    }
    console.log(`${p.name}\t${verdict}`);
  }
}

const [cmd, path] = process.argv.slice(2);
if (cmd === 'mint') await mint(path);
else if (cmd === 'verify') await verify(path);
else {
  console.error('usage: mint OUT.json | verify PROBES.json');
  process.exit(2);
}
