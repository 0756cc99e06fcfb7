import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex, locateSyntaxError, scanLayout } from '../../src/sources/json-text.ts';

const syntaxError = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return locateSyntaxError(text, e);
  }
  assert.fail(`expected ${JSON.stringify(text)} not to parse`);
};

describe('LineIndex', () => {
  test('maps offsets to 1-based lines and columns', () => {
    const idx = new LineIndex('ab\ncd\r\n\nef');
    assert.deepEqual(
      [0, 1, 2, 3, 4, 7, 8, 9].map((o) => idx.line(o)),
      [1, 1, 1, 2, 2, 3, 4, 4],
    );
    assert.equal(idx.column(0), 1);
    assert.equal(idx.column(4), 2);
    assert.equal(idx.column(9), 2);
  });
});

describe('scanLayout', () => {
  test('finds the start of each element of the root array', () => {
    const text = '[\n  {"a": "x{[\\"]}"},\n  "s,]",\n  [1, [2]],\n  -1.5e3 ,\n  null\n]';
    const layout = scanLayout(text);
    assert.equal(layout.root, 0);
    assert.deepEqual(
      layout.rootItems.map((o) => text.slice(o, o + 3)),
      ['{"a', '"s,', '[1,', '-1.', 'nul'],
    );
  });

  test('finds the members of the root object and the elements of their arrays; the last of a repeated key wins', () => {
    const text =
      '{"Resources": [9], "x": {"Resources": [1, 2]},\n "Res\\u006furces" : [ {"k": "\\\\"}, {"k": "}"} ], "n": 4}';
    const layout = scanLayout(text);
    const member = layout.rootMembers.get('Resources');
    assert.ok(member);
    assert.equal(text.slice(member.start, member.start + 3), '[ {');
    assert.deepEqual(
      member.items.map((o) => text.slice(o, o + 8)),
      ['{"k": "\\', '{"k": "}'],
    );
    assert.equal(text.slice(layout.rootMembers.get('n')!.start), '4}');
    assert.deepEqual(layout.rootItems, []);
  });

  test('a root scalar and deep nesting', () => {
    assert.equal(scanLayout('  \n 42 ').root, 4);
    const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    assert.deepEqual(scanLayout(deep).rootItems, [1]);
  });
});

describe('locateSyntaxError', () => {
  test('uses the position in V8 messages', () => {
    const text = '[\n {"a": 1,}\n]';
    const { offset, reason } = syntaxError(text);
    assert.equal(text[offset], '}');
    assert.doesNotMatch(reason, /position/);
  });

  test('finds the position itself when the message has none', () => {
    const text = '[\n {"a": 1},\n {"b": x}\n]';
    const { offset, reason } = syntaxError(text);
    assert.equal(offset, text.indexOf('x'));
    assert.equal(reason, "Unexpected token 'x'");
  });

  test('an unexpected end points past the last character', () => {
    const text = '[\n {"a": 1}\n\n';
    const { offset } = syntaxError(text);
    assert.equal(new LineIndex(text).line(offset), 2);
  });
});
