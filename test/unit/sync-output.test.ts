import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import xtermHeadless from '@xterm/headless';
import { trackSynchronizedOutput } from '../support/sync-output.ts';

const BSU = '\u001b[?2026h';
const ESU = '\u001b[?2026l';

function terminal() {
  const term = new xtermHeadless.Terminal({ cols: 20, rows: 3, allowProposedApi: true });
  const sync = trackSynchronizedOutput(term);
  const write = (data: string) => new Promise<void>((resolve) => term.write(data, resolve));
  const row = (y: number) => term.buffer.active.getLine(y)?.translateToString(true) ?? '';
  return { term, sync, write, row };
}

describe('synchronized output as the harnesses follow it', () => {
  test('a frame whose end mark is split across two chunks ends with the second chunk', async () => {
    const { term, sync, write, row } = terminal();
    await write(`${BSU}\u001b[Hframe one\r\nsecond row${ESU.slice(0, 2)}`);
    assert.equal(sync.inFrame, true, 'still inside: the end mark is incomplete');
    await write(ESU.slice(2));
    assert.equal(sync.inFrame, false, 'the split end mark is seen (a search of each chunk for it would miss it)');
    assert.equal(row(1), 'second row');
    term.dispose();
  });

  test('a frame whose start mark is split counts as begun, so half of it is never read as a whole screen', async () => {
    const { term, sync, write } = terminal();
    await write(`${BSU}x${ESU}${BSU.slice(0, 5)}`);
    assert.equal(sync.inFrame, false);
    await write(`${BSU.slice(5)}\u001b[Hhalf a fr`);
    assert.equal(sync.inFrame, true);
    await write(`ame${ESU}`);
    assert.equal(sync.inFrame, false);
    term.dispose();
  });

  test('other private modes (the cursor, the alternate screen) leave it alone', async () => {
    const { term, sync, write } = terminal();
    await write(`${BSU}\u001b[?25l\u001b[?1049h\u001b[?25h`);
    assert.equal(sync.inFrame, true);
    await write(`\u001b[?1049l${ESU}\u001b[?25l`);
    assert.equal(sync.inFrame, false);
    term.dispose();
  });
});
