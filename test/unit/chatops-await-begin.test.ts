import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awaitBeginDecision, BEGIN_WAIT_MS, beginHeadline } from '../../shared/chatops/await-begin.js';
import type { BeginDecision, NodeGroupLockRecord } from '../../shared/rollout/node-group-lock.js';

const ARN = 'arn:aws:states:eu-west-1:111122223333:execution:eks-node-lifecycle-prod-ami-rollout:chat-prod-web-abc';
const rollout = { executionArn: ARN, cluster: 'prod', group: 'web' };

/** Fake ports on a fake clock: `decideAt` / `approvalAt` say when (ms after the start) Begin and the approval gate have written. */
function ports(options: { decision?: BeginDecision; decideAt?: number; approvalAt?: number }) {
  let t = 0;
  const reads = { decision: 0, lock: 0 };
  return {
    reads,
    elapsed: () => t,
    ports: {
      now: () => new Date(Date.UTC(2026, 10, 21, 9) + t),
      sleep: async (ms: number) => {
        t += ms;
      },
      locks: {
        beginDecision: async () => {
          reads.decision++;
          return options.decision && t >= (options.decideAt ?? 0) ? { ...options.decision, decidedAt: 'x' } : undefined;
        },
        get: async (): Promise<NodeGroupLockRecord | undefined> => {
          reads.lock++;
          const lock = { lockKey: 'prod/web', owner: ARN, acquiredAt: 'x', expiresAt: 0, expiresAtIso: 'x' };
          return options.approvalAt !== undefined && t >= options.approvalAt ? { ...lock, approvalId: 'apr-0123456789ab' } : lock;
        },
      },
    },
  };
}

describe('Chat rollout replies: awaiting Begin', () => {
  it('returns as soon as Begin has decided to run now, after one read', async () => {
    const p = ports({ decision: { decision: 'proceed', approval: false, startAt: null } });
    const out = await awaitBeginDecision(rollout, p.ports);
    assert.deepEqual(out, { kind: 'decided', decision: { decision: 'proceed', approval: false, startAt: null, decidedAt: 'x' } });
    assert.equal(p.reads.decision, 1);
    assert.equal(beginHeadline('prod/web', out).title, ':rocket: Rollout of prod/web started');
  });

  it('follows an approval until the gate names it', async () => {
    const p = ports({ decision: { decision: 'proceed', approval: true, startAt: '2026-11-22T02:00:00.000Z' }, decideAt: 600, approvalAt: 1500 });
    const out = await awaitBeginDecision(rollout, p.ports);
    assert.equal(out.kind === 'decided' && out.approvalId, 'apr-0123456789ab');
    const headline = beginHeadline('prod/web', out);
    assert.equal(headline.title, ':raised_hand: Rollout of prod/web is waiting for approval (approval apr-0123456789ab)');
    assert.equal(headline.next, 'once approved, it waits for the maintenance window until 2026-11-22 02:00 UTC');
  });

  it('gives up at the bound, saying honestly that it is not yet started', async () => {
    const p = ports({});
    const out = await awaitBeginDecision(rollout, p.ports);
    assert.deepEqual(out, { kind: 'undecided' });
    assert.ok(p.elapsed() <= BEGIN_WAIT_MS, `waited ${p.elapsed()} ms`);
    assert.ok(p.elapsed() >= BEGIN_WAIT_MS - 1000, `gave up early, after ${p.elapsed()} ms`);
    assert.ok(p.reads.decision <= 16, `${p.reads.decision} reads`);
    assert.match(beginHeadline('prod/web', out).title, /accepted, not yet started: progress follows in the thread/);
  });

  it('an approval the gate has not named within the bound is still reported as waiting for approval', async () => {
    const p = ports({ decision: { decision: 'proceed', approval: true, startAt: null } });
    const out = await awaitBeginDecision(rollout, p.ports);
    assert.equal(beginHeadline('prod/web', out).title, ':raised_hand: Rollout of prod/web is waiting for approval');
  });

  it('words each of Begin\'s other decisions', () => {
    const decided = (decision: BeginDecision) => beginHeadline('prod/web', { kind: 'decided', decision });
    assert.deepEqual(decided({ decision: 'proceed', approval: false, startAt: '2026-11-22T02:00:00.000Z' }), { ok: true, title: ':hourglass_flowing_sand: Rollout of prod/web is waiting for the maintenance window until 2026-11-22 02:00 UTC' });
    assert.deepEqual(decided({ decision: 'refused', reason: 'outside the maintenance window' }), { ok: false, title: ':no_entry: Rollout of prod/web refused: outside the maintenance window' });
    const held = decided({ decision: 'already-rolling', heldBy: 'arn:aws:states:eu-west-1:111122223333:execution:m:roll-prod-web-ami-1' });
    assert.equal(held.ok, false);
    assert.match(held.title, /already being rolled by another rollout \(roll-prod-web-ami-1\)/);
  });
});
