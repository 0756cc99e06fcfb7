import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resolveConnection } from '../../src/config/connection.ts';
import { envFileKeys, loadEnv } from '../../src/config/env.ts';
import type { ProfileStore } from '../../src/config/profiles.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function withDotEnv(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-env-'));
  dirs.push(dir);
  writeFileSync(join(dir, '.env'), text);
  return dir;
}

const noProfiles = async () => ({ get: () => undefined, current: undefined }) as unknown as ProfileStore;

describe('loadEnv', () => {
  test('takes SCIMCTL_* entries the environment lacks, and remembers which', () => {
    const dir = withDotEnv('SCIMCTL_URL=https://dotenv.example.test/scim/v2\nSCIMCTL_TOKEN=from-file-token\nOTHER=x\n');
    const env = loadEnv(dir, { SCIMCTL_TOKEN: 'real-token' });
    assert.equal(env.SCIMCTL_URL, 'https://dotenv.example.test/scim/v2');
    assert.equal(env.SCIMCTL_TOKEN, 'real-token', 'the real environment wins');
    assert.equal(env.OTHER, undefined);
    assert.deepEqual([...envFileKeys(env).used], ['SCIMCTL_URL']);
  });

  test('never takes SCIMCTL_ALLOW_INSECURE_HTTP from a .env', () => {
    const dir = withDotEnv('SCIMCTL_ALLOW_INSECURE_HTTP=1\n');
    const env = loadEnv(dir, {});
    assert.equal(env.SCIMCTL_ALLOW_INSECURE_HTTP, undefined);
    assert.deepEqual(envFileKeys(env).ignored, ['SCIMCTL_ALLOW_INSECURE_HTTP']);
    assert.equal(
      loadEnv(dir, { SCIMCTL_ALLOW_INSECURE_HTTP: '1' }).SCIMCTL_ALLOW_INSECURE_HTTP,
      '1',
      'the environment still may',
    );
  });
});

describe('a connection chosen by ./.env', () => {
  test('is announced', async () => {
    const env = loadEnv(withDotEnv('SCIMCTL_URL=https://dotenv.example.test/scim/v2\n'), {
      SCIMCTL_TOKEN: 'real-token-123',
    });
    const c = await resolveConnection({}, env, noProfiles);
    assert.equal(c.url, 'https://dotenv.example.test/scim/v2');
    assert.deepEqual(c.notices, ['using SCIMCTL_URL from ./.env (https://dotenv.example.test/scim/v2)']);
  });

  test('from the environment alone is not announced', async () => {
    const c = await resolveConnection(
      {},
      loadEnv(withDotEnv(''), { SCIMCTL_URL: 'https://env.example.test', SCIMCTL_TOKEN: 'tok-1234' }),
      noProfiles,
    );
    assert.equal(c.notices, undefined);
  });

  test('plain http to another machine with a token is refused, whatever allows insecure http', async () => {
    const dir = withDotEnv('SCIMCTL_URL=http://scim.example.test/scim/v2\nSCIMCTL_ALLOW_INSECURE_HTTP=1\n');
    for (const [flags, base] of [
      [{}, { SCIMCTL_TOKEN: 'real-token-123' }],
      [{ allowInsecureHttp: true }, { SCIMCTL_TOKEN: 'real-token-123' }],
      [{}, { SCIMCTL_TOKEN: 'real-token-123', SCIMCTL_ALLOW_INSECURE_HTTP: '1' }],
    ] as const) {
      await assert.rejects(
        resolveConnection(flags, loadEnv(dir, base), noProfiles),
        (e: unknown) =>
          e instanceof ConfigError &&
          /refusing .*plain http:\/\/ to scim\.example\.test: SCIMCTL_URL comes from \.\/\.env/.test(e.message),
      );
    }
  });

  test('the same URL from the environment with the flag is allowed; loopback http from .env is allowed', async () => {
    const c = await resolveConnection(
      { allowInsecureHttp: true },
      loadEnv(withDotEnv(''), { SCIMCTL_URL: 'http://scim.example.test', SCIMCTL_TOKEN: 'tok-1234' }),
      noProfiles,
    );
    assert.equal(c.url, 'http://scim.example.test');
    const local = await resolveConnection(
      {},
      loadEnv(withDotEnv('SCIMCTL_URL=http://127.0.0.1:9/scim/v2\n'), { SCIMCTL_TOKEN: 'tok-1234' }),
      noProfiles,
    );
    assert.deepEqual(local.notices, ['using SCIMCTL_URL from ./.env (http://127.0.0.1:9/scim/v2)']);
  });

  test(
    'a profile chosen by .env (SCIMCTL_PROFILE or SCIMCTL_CONFIG_DIR) that allows ' +
      'insecure http to another machine is refused too',
    async () => {
      const profiles = async () =>
        ({
          current: 'planted',
          get: (name: string) =>
            name === 'planted'
              ? {
                  url: 'http://scim.example.test/scim/v2',
                  allowInsecureHttp: true,
                  auth: { type: 'bearer', tokenEnv: 'MY_REAL_TOKEN' },
                }
              : undefined,
        }) as unknown as ProfileStore;
      for (const line of ['SCIMCTL_PROFILE=planted\n', 'SCIMCTL_CONFIG_DIR=./planted-config\n']) {
        const env = loadEnv(withDotEnv(line), { MY_REAL_TOKEN: 'real-token-123' });
        await assert.rejects(
          resolveConnection({}, env, profiles),
          (e: unknown) => e instanceof ConfigError && /comes from \.\/\.env/.test(e.message),
          line,
        );
      }
      // The same profile chosen by the person (no .env) is theirs to allow.
      const own = await resolveConnection({}, loadEnv(withDotEnv(''), { MY_REAL_TOKEN: 'real-token-123' }), profiles);
      assert.equal(own.url, 'http://scim.example.test/scim/v2');
      assert.equal(own.notices, undefined);
    },
  );
});
