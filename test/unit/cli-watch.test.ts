import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watch, watchLines, type WatchedGroup, type WatchPorts } from '../../scripts/cli-watch.js';

const OLD = 'ami-0aaaaaaaaaaaaaaaa';
const NEW = 'ami-0bbbbbbbbbbbbbbbb';
const rolling = (onNew: number, onOld: number, phase = 'rolling'): WatchedGroup => ({
  cluster: 'prod',
  group: 'web',
  images: [...(onNew ? [{ imageId: NEW, count: onNew }] : []), ...(onOld ? [{ imageId: OLD, count: onOld }] : [])],
  rollout: { phase, target: { imageId: NEW, release: '1.31.13-20261215' }, batchesDone: onNew ? 1 : 0, startedBy: 'Alice', ...(phase === 'paused' ? { controlBy: 'Bob', pause: 1 } : {}) },
});
const idle = (onNew: number, onOld: number): WatchedGroup => ({ ...rolling(onNew, onOld), rollout: null });

/** Ports answering `status` with each frame in turn (the last one again if asked more). */
function ports(frames: WatchedGroup[][], tty: boolean, extra: Partial<WatchPorts> = {}): WatchPorts & { out: string[]; asked: string[] } {
  const out: string[] = [];
  const asked: string[] = [];
  let n = 0;
  let t = Date.parse('2026-12-07T10:00:00Z');
  return {
    out,
    asked,
    status: async (scope) => {
      asked.push(scope);
      return { ok: true, text: '', items: frames[Math.min(n++, frames.length - 1)]! };
    },
    write: (text) => void out.push(text),
    tty,
    sleep: async (ms) => void (t += ms),
    now: () => new Date(t),
    intervalMs: 5000,
    ...extra,
  };
}

describe('CLI --watch', () => {
  it('draws a rolling group: its phase, a bar of the nodes on the target, the batches, who started and paused it', () => {
    const [line] = watchLines([rolling(2, 4, 'paused')]);
    assert.match(line!, /^prod\/web {2}paused {3}▰▰▰▱▱▱▱▱▱▱ 2\/6 nodes on 1\.31\.13-20261215, 1 batch\(es\) done; started by Alice; paused #1 by Bob {2}\[ami-0b+ ×2, ami-0a+ ×4\]$/);
    assert.match(watchLines([idle(0, 3)])[0]!, /^prod\/web {2}idle {5}ami-0a+ ×3$/);
    // what holds its drain back: the pod and its budget
    const blocked = rolling(2, 4);
    blocked.rollout!.blockedBy = ['shop/web-1 (PodDisruptionBudget shop/web)', 'shop/web-2 (PodDisruptionBudget shop/web)', 'shop/api-1 (PodDisruptionBudget shop/api)'];
    assert.match(watchLines([blocked])[0]!, /1 batch\(es\) done; waiting on shop\/web-1 \(PodDisruptionBudget shop\/web\), shop\/web-2 \(PodDisruptionBudget shop\/web\) and 1 more; started by Alice/);
  });

  it('on a terminal, redraws in place each poll; ends when nothing in view rolls, exit 0', async () => {
    const p = ports([[rolling(0, 6)], [rolling(2, 4)], [idle(6, 0)]], true);
    assert.equal(await watch('prod', p), 0);
    assert.deepEqual(p.asked, ['prod', 'prod', 'prod']);
    const frames = p.out.filter((o) => o.includes('prod/web'));
    assert.equal(frames.length, 3);
    assert.doesNotMatch(frames[0]!, /\x1b\[/);
    assert.match(frames[1]!, /^\x1b\[2F\x1b\[0J10:00:05 UTC {2}prod\n/);
    assert.match(frames[2]!, /idle/);
    assert.match(p.out.at(-1)!, /no rollout running any more in view/);
  });

  it('piped, writes only the lines that changed, each with its time', async () => {
    const p = ports([[rolling(0, 6)], [rolling(0, 6)], [rolling(2, 4)], [idle(6, 0)]], false);
    assert.equal(await watch('prod', p), 0);
    const lines = p.out.filter((o) => o.includes('prod/web'));
    assert.equal(lines.length, 3, lines.join(''));
    assert.match(lines[0]!, /^10:00:00 {2}prod\/web {2}rolling .* 0\/6 /);
    assert.match(lines[1]!, /^10:00:10 {2}prod\/web {2}rolling .* 2\/6 /);
    assert.match(lines[2]!, /^10:00:15 {2}prod\/web {2}idle /);
    assert.ok(p.out.every((o) => !o.includes('\x1b[')));
  });

  it('rollout -w: exit 0 when every node ends on the target, 1 when the rollout ended short of it', async () => {
    const finished = ports([[rolling(0, 6)], [rolling(4, 2)], [idle(6, 0)]], false);
    assert.equal(await watch('prod/web', finished, { group: 'web' }), 0);
    assert.match(finished.out.at(-1)!, /prod\/web: rollout finished — 6 of 6 nodes on ami-0b+/);
    const rolledBack = ports([[rolling(0, 6)], [rolling(2, 4, 'rolling back')], [idle(0, 6)]], false);
    assert.equal(await watch('prod/web', rolledBack, { group: 'web' }), 1);
    assert.match(rolledBack.out.at(-1)!, /rollout ended with 0 of 6 nodes on ami-0b+ \(rolled back, aborted or failed: see `history prod`\)/);
    const never = ports([[idle(0, 6)]], false);
    assert.equal(await watch('prod/web', never, { group: 'web' }), 1);
    assert.match(never.out.at(-1)!, /no rollout ran while watched/);
  });

  it('a status the service refuses or cannot answer ends the watch with its code', async () => {
    const refused = ports([], false, { status: async () => ({ ok: false, text: 'Too many commands' }) });
    assert.equal(await watch('prod', refused), 1);
    const unreachable = ports([], false, { status: async () => ({ ok: false, text: 'API unreachable', unreachable: true }) });
    assert.equal(await watch('prod', unreachable), 3);
  });
});
