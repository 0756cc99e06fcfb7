import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandWords } from '../../src/commands/index.ts';

test('the command words skip options and the values of global options', () => {
  assert.deepEqual(commandWords(['--profile', 'demo', 'users', 'list']), ['users', 'list']);
  assert.deepEqual(commandWords(['-p', 'prod', '--timeout', '5', 'groups', 'get', 'Eng', '--json']), [
    'groups',
    'get',
    'Eng',
  ]);
  assert.deepEqual(commandWords(['users', '--retries', '0', 'get', '--', '-odd-name']), ['users', 'get', '-odd-name']);
  assert.deepEqual(commandWords(['--help']), []);
});
