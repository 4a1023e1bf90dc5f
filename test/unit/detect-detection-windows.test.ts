import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEBOUNCE_SECONDS, DetectionWindows, detectionExecutionName, SETTLE_SECONDS } from '../../shared/detect/detection-windows.js';
import { startLocksTable } from '@eks-node-lifecycle/sandbox';
import { dynaliteScope } from './dynalite-scope.js';

const TABLE = 'rollouts';
const T0 = new Date('2026-11-21T09:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const g = (group: string) => ({ cluster: 'prod', group });

describe('AMI event debounce windows (real DynamoDB)', () => {
  let table: Awaited<ReturnType<typeof startLocksTable>>;
  let windows: DetectionWindows;

  before(async () => {
    table = await startLocksTable(TABLE);
    windows = new DetectionWindows(dynaliteScope(table.dynamo.endpoint), TABLE);
  });
  after(() => table.close());

  it('ten events within the window join one window, named and timed by its first; its detection reads the union once', async () => {
    const joined = [];
    for (let i = 0; i < 10; i++) joined.push(await windows.join([g(i % 3 === 0 ? 'golden' : 'data')], [`ami-0000000000000000${i}`], at(i * 5)));
    assert.equal(new Set(joined.map((w) => w.id)).size, 1);
    assert.deepEqual(joined[0], { id: '20261121T090000Z', detectAt: `2026-11-21T09:01:${String(SETTLE_SECONDS).padStart(2, '0')}Z` });
    assert.equal(detectionExecutionName(joined[0]!), 'detect-20261121T090000Z');
    const closed = await windows.close(joined[0]!.id, at(DEBOUNCE_SECONDS + SETTLE_SECONDS));
    assert.deepEqual(closed.groups, [g('data'), g('golden')]);
    assert.equal(closed.images.length, 10);
    // a retried detection step reads the same
    assert.deepEqual(await windows.close(joined[0]!.id, at(DEBOUNCE_SECONDS + SETTLE_SECONDS + 5)), closed);
  });

  it('racing first events open one window between them', async () => {
    const t = 1000;
    const out = await Promise.all([windows.join([g('a')], ['ami-0aaaaaaaaaaaaaaaa'], at(t)), windows.join([g('b')], ['ami-0bbbbbbbbbbbbbbbb'], at(t)), windows.join([g('c')], ['ami-0cccccccccccccccc'], at(t + 1))]);
    assert.equal(new Set(out.map((w) => w.id)).size, 1);
    assert.deepEqual((await windows.close(out[0]!.id, at(t + 100))).groups, [g('a'), g('b'), g('c')]);
  });

  it('an event after the window has passed opens the next one; one whose write lands after the detection read moves to it, and is not lost', async () => {
    const t = 2000;
    const first = await windows.join([g('golden')], ['ami-01111111111111111'], at(t));
    // the detection has read the window (at its detectAt)…
    await windows.close(first.id, at(t + DEBOUNCE_SECONDS + SETTLE_SECONDS));
    // …and an event stamped before the window's end only now writes: it goes to a new window
    const late = await windows.join([g('data')], ['ami-02222222222222222'], at(t + DEBOUNCE_SECONDS - 1));
    assert.notEqual(late.id, first.id);
    assert.deepEqual((await windows.close(late.id, at(t + 500))).groups, [g('data')]);
  });

  it('a window nobody joined reads as empty', async () => {
    assert.deepEqual(await windows.close('20261121T100000Z', at(4000)), { groups: [], images: [] });
  });
});
