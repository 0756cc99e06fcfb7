import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Capabilities } from '../../src/api/discovery.ts';
import { fileCapabilityCache } from '../../src/config/cache.ts';
import { saveState } from '../../src/sync/state.ts';
import { profileKey } from '../../src/util/profile-key.ts';

const URL_ = 'https://scim.example.com/scim/v2';
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-profile-key-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('profileKey', () => {
  test('is the same as ever for a profile and URL (files kept by earlier runs are found again)', () => {
    assert.equal(profileKey('prod', URL_), '2da68920f17c4acf');
  });

  test('differs by profile and by URL', () => {
    const keys = new Set([profileKey('prod', URL_), profileKey('test', URL_), profileKey('prod', `${URL_}/`)]);
    assert.equal(keys.size, 3);
  });

  test('names both the sync state file and the discovery cache file of that profile and URL', () => {
    const key = profileKey('prod', URL_);
    saveState(dir, { profile: 'prod', url: URL_, owned: [], ownedGroups: [] });
    assert.ok(existsSync(join(dir, 'state', `${key}.json`)));
    fileCapabilityCache({ SCIMCTL_CACHE_DIR: dir }, 'prod', URL_).save({
      discoveredAt: new Date().toISOString(),
    } as Capabilities);
    assert.ok(existsSync(join(dir, `discovery-${key}.json`)));
  });
});
