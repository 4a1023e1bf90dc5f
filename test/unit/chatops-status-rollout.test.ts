import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayNameOf, parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { describeImagesRunning, rolloutNowOf, statusReply } from '../../shared/chatops/command-replies.js';
import { mentionsAsText } from '../../shared/chatops/mentions.js';
import { toText } from '../../shared/chatops/render.js';
import type { NodeGroupLockRecord } from '../../shared/rollout/node-group-lock.js';

const ALICE = 'slack:T0SANDBOX:U0ALICE';
const BOB = 'slack:T0SANDBOX:U0BOB';
const OWNER = 'arn:aws:states:eu-west-1:111122223333:execution:eks-node-lifecycle-dev-ami-rollout:chat-prod-web-abc';

function lock(extra: Partial<NodeGroupLockRecord> = {}): NodeGroupLockRecord {
  return { lockKey: 'prod/web', owner: OWNER, acquiredAt: '2026-12-07T08:00:00Z', expiresAt: 0, expiresAtIso: '', rollout: { target: { imageId: 'ami-0new', release: '1.31.3-20261201' }, startedBy: ALICE }, ...extra };
}

describe('Status: who, in the names the policy gives them', () => {
  const policy = parseAccessPolicy(JSON.stringify({ clusters: { '*': { read: ['*'] } }, names: { [ALICE]: 'Alice Liddell' } }));

  it('a person the policy names is shown by that name; another Slack user as a mention, never by the workspace-qualified id', () => {
    assert.equal(displayNameOf(policy, ALICE), 'Alice Liddell');
    assert.equal(mentionsAsText(displayNameOf(policy, BOB)), '<@U0BOB>');
    assert.equal(displayNameOf(policy, 'detection'), 'automatic detection');
  });

  it('refuses names for things that are not people, and names that would render as markup', () => {
    assert.throws(() => parseAccessPolicy(JSON.stringify({ names: { 'group:sre': 'SREs' } })), /names.group:sre/);
    assert.throws(() => parseAccessPolicy(JSON.stringify({ names: { [ALICE]: '<!channel>' } })), /is not a plain display name/);
  });
});

describe('Status: the rollout of a lock', () => {
  const nameOf = (id: string) => (id === ALICE ? 'Alice' : id === BOB ? 'Bob' : id);

  it('paused after the canary: the phase, who paused, the pause number, batches done, the target and the starter', () => {
    const now = rolloutNowOf(lock({ control: 'pause', controlBy: BOB, pauses: 1, announced: new Set(['planned', 'canary-passed']) }), nameOf);
    assert.deepEqual(now, { execution: 'chat-prod-web-abc', target: { imageId: 'ami-0new', release: '1.31.3-20261201' }, startedBy: 'Alice', phase: 'paused', batchesDone: 1, controlBy: 'Bob', pause: 1 });
  });

  it('says what held the last drain pass back, in the table too', () => {
    const blocked = ['shop/web-1 (PodDisruptionBudget shop/web)'];
    const now = rolloutNowOf(lock({ announced: new Set(['planned']), blockedBy: blocked }), nameOf);
    assert.deepEqual(now.blockedBy, blocked);
    assert.equal(rolloutNowOf(lock({ announced: new Set(['planned']) }), nameOf).blockedBy, undefined);
  });

  it('reads each phase from the lock alone', () => {
    const phase = (extra: Partial<NodeGroupLockRecord>) => rolloutNowOf(lock(extra), nameOf).phase;
    assert.equal(phase({}), 'starting');
    assert.equal(phase({ approvalId: 'apr-000000000000' }), 'waiting for approval');
    assert.equal(phase({ announced: new Set(['planned', 'batch-finished:3']) }), 'rolling');
    assert.equal(phase({ announced: new Set(['planned', 'rolling-back']) }), 'rolling back');
    assert.equal(phase({ control: 'abort', controlBy: ALICE }), 'aborting');
    assert.equal(rolloutNowOf(lock({ announced: new Set(['canary-passed', 'batch-finished:2', 'batch-finished:3']) }), nameOf).batchesDone, 3);
  });

  it('a lock taken before Begin recorded the rollout says what it knows, no more', () => {
    const { rollout: _gone, ...bare } = lock();
    assert.deepEqual(rolloutNowOf(bare, nameOf), { execution: 'chat-prod-web-abc', phase: 'starting', batchesDone: 0 });
  });

  it('the table shows the images counted, the target and the people', () => {
    const group = { place: { accountId: '', region: 'eu-west-1' }, home: true, cluster: 'prod', kind: 'self-managed' as const, name: 'web', tags: {}, kubernetesVersion: '1.31', controlPlaneVersion: '1.31', imageId: 'ami-0old', size: { desired: 6, min: 6, max: 6 } };
    const l = lock({ control: 'pause', controlBy: BOB, pauses: 1, announced: new Set(['planned', 'canary-passed']) });
    const text = toText(statusReply('prod/web', ['prod'], [{ group, optIn: 'auto', kubernetes: '1.31', lock: l, images: [{ imageId: 'ami-0old', count: 4 }, { imageId: 'ami-0new', count: 2 }], rollout: rolloutNowOf(l, nameOf) }]));
    assert.match(text, /ami-0old ×4, ami-0new ×2/);
    assert.match(text, /paused #1 by Bob to 1\.31\.3-20261201 \(ami-0new\), 1 batch done, started by Alice \(chat-prod-web-abc\)/);
    assert.equal(describeImagesRunning([]), '');
    // what holds the drain back, named in the row
    const held = lock({ announced: new Set(['planned']), blockedBy: ['shop/web-1 (PodDisruptionBudget shop/web)'] });
    const row = toText(statusReply('prod/web', ['prod'], [{ group, optIn: 'auto', kubernetes: '1.31', lock: held, images: [{ imageId: 'ami-0old', count: 6 }], rollout: rolloutNowOf(held, nameOf) }]));
    assert.match(row, /rolling to 1\.31\.3-20261201 \(ami-0new\), waiting on shop\/web-1 \(PodDisruptionBudget shop\/web\), started by Alice/);
  });
});
