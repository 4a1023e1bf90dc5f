import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import { InvalidInputError } from '../../shared/errors.js';
import { holdRelease } from '../../shared/fleet/promotion-actions.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { newPromotion } from '../../shared/fleet/promotion-state.js';
import type { Release } from '../../shared/fleet/release.js';
import { startChatopsTable } from '@eks-node-lifecycle/sandbox';
import { dynaliteScope } from './dynalite-scope.js';

const TABLE = 'fleet';
const T0 = new Date('2026-12-07T09:00:00Z');
const RELEASE: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: '1.31.3-20241115' };
const POLICY = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'dev', soak: '1h' }, { name: 'prod', soak: '1d' }] }));

describe('Fleet table (real DynamoDB)', () => {
  let db: Awaited<ReturnType<typeof startChatopsTable>>;
  let fleet: FleetRecords;

  before(async () => {
    // the fleet table has the chat-ops table's keys (pk, sk)
    db = await startChatopsTable(TABLE);
    fleet = new FleetRecords(dynaliteScope(db.dynamo.endpoint), TABLE);
  });
  after(() => db.close());

  it('a promotion is created once; a write naming a stale version is refused, so a person and the workflow never lose each other\'s change', async () => {
    const state = newPromotion(RELEASE, POLICY, T0);
    assert.equal(await fleet.createPromotion(state, T0.toISOString()), true);
    assert.equal(await fleet.createPromotion({ ...state, startedAt: new Date(T0.getTime() + 1000).toISOString() }, T0.toISOString()), false, 'a second start of the same release keeps the first');
    const read = (await fleet.promotion(state.key))!;
    assert.deepEqual(read, { state, version: 1 });

    const held = holdRelease(read.state, { reason: 'canary 5xx', by: 'slack:T1:U1' }, T0);
    assert.ok(held.ok);
    assert.equal(await fleet.savePromotion(held.state, read.version, T0.toISOString()), 2);
    // the workflow decided from version 1: its write is refused, the hold stands
    assert.equal(await fleet.savePromotion({ ...read.state, finishedAt: T0.toISOString() }, read.version, T0.toISOString()), undefined);
    const now = (await fleet.promotion(state.key))!;
    assert.equal(now.version, 2);
    assert.equal(now.state.hold?.reason, 'canary 5xx');
    assert.equal(now.state.finishedAt, undefined);
    assert.equal(await fleet.promotion('no-such-release'), undefined);
  });

  it('freezes: one per scope, a new one replaces its scope\'s, lifting returns what was lifted; fleetView reads promotions and freezes', async () => {
    await fleet.setFreeze({ scope: { kind: 'all' }, reason: 'incident 42', by: 'alice', since: T0.toISOString() });
    await fleet.setFreeze({ scope: { kind: 'ring', ring: 'prod' }, reason: 'quarter end', by: 'bob', since: T0.toISOString() });
    await fleet.setFreeze({ scope: { kind: 'ring', ring: 'prod' }, reason: 'quarter end, extended', by: 'carol', since: T0.toISOString() });
    const freezes = await fleet.freezes();
    assert.equal(freezes.length, 2);
    assert.deepEqual(freezes.find((f) => f.scope.kind === 'ring'), { scope: { kind: 'ring', ring: 'prod' }, reason: 'quarter end, extended', by: 'carol', since: T0.toISOString() });

    const view = await fleet.fleetView();
    assert.equal(view.promotions.length, 1);
    assert.equal(view.freezes.length, 2);

    assert.equal((await fleet.liftFreeze({ kind: 'all' }))?.reason, 'incident 42');
    assert.equal(await fleet.liftFreeze({ kind: 'all' }), undefined, 'nothing frozen there any more');
    assert.deepEqual((await fleet.freezes()).map((f) => f.scope.kind), ['ring']);
  });

  it('ring approvals: the first person\'s stands, per promotion', async () => {
    assert.equal(await fleet.approveRing('k1', { ring: 'prod', by: 'alice', at: T0.toISOString() }), true);
    assert.equal(await fleet.approveRing('k1', { ring: 'prod', by: 'bob', at: T0.toISOString() }), false);
    await fleet.approveRing('k2', { ring: 'prod', by: 'carol', at: T0.toISOString() });
    assert.deepEqual(await fleet.ringApprovals('k1'), [{ ring: 'prod', by: 'alice', at: T0.toISOString() }]);
  });

  it('group outcomes: one per group and release, the latest write wins', async () => {
    const ref = { account: '444455556666', region: 'us-east-1', cluster: 'prod', group: 'web' };
    await fleet.recordOutcome('k1', { ref, ring: 'prod', state: 'rolling', from: { imageId: 'ami-old' }, to: { imageId: 'ami-new' }, at: T0.toISOString() });
    await fleet.recordOutcome('k1', { ref, ring: 'prod', state: 'failed-health', from: { imageId: 'ami-old' }, to: { imageId: 'ami-new' }, detail: '3 pods crash-looping', at: T0.toISOString() });
    await fleet.recordOutcome('k1', { ref: { cluster: 'prod', group: 'web' }, state: 'current', to: { imageId: 'ami-new' }, at: T0.toISOString() });
    const outcomes = await fleet.outcomes('k1');
    assert.deepEqual(outcomes.map((o) => [o.ref.account, o.state]).sort(), [['444455556666', 'failed-health'], [undefined, 'current']].sort());
    assert.deepEqual(await fleet.outcomes('k2'), []);
    // the rollback that ends a rollout which failed its health gate keeps the failure: the promotion must see it
    await fleet.recordOutcome('k1', { ref, ring: 'prod', state: 'rolled-back', from: { imageId: 'ami-old' }, to: { imageId: 'ami-new' }, detail: 'rolled back', at: T0.toISOString() });
    const failed = (await fleet.outcomes('k1')).find((o) => o.ref.account === '444455556666')!;
    assert.equal(failed.state, 'failed-health');
    assert.equal(failed.rolledBack, true);
    assert.equal(failed.detail, 'rolled back');
    // an ordinary rollback (a drain timed out) is recorded as one
    await fleet.recordOutcome('k3', { ref, state: 'rolling', to: { imageId: 'ami-new' }, at: T0.toISOString() });
    await fleet.recordOutcome('k3', { ref, state: 'rolled-back', to: { imageId: 'ami-new' }, at: T0.toISOString() });
    assert.equal((await fleet.outcomes('k3'))[0]!.state, 'rolled-back');
    // a failed end after a regression (a managed group rolled by release cannot go back) keeps it, not rolled back
    await fleet.recordOutcome('k4', { ref, state: 'failed-health', to: { imageId: 'ami-new' }, detail: 'crash loops', at: T0.toISOString() });
    await fleet.recordOutcome('k4', { ref, state: 'failed', to: { imageId: 'ami-new' }, detail: 'failed: no way back', at: T0.toISOString() });
    const kept = (await fleet.outcomes('k4'))[0]!;
    assert.deepEqual([kept.state, kept.rolledBack, kept.detail], ['failed-health', undefined, 'failed: no way back']);
    // an ordinary failure is recorded as one
    await fleet.recordOutcome('k5', { ref, state: 'rolling', to: { imageId: 'ami-new' }, at: T0.toISOString() });
    await fleet.recordOutcome('k5', { ref, state: 'failed', to: { imageId: 'ami-new' }, at: T0.toISOString() });
    assert.equal((await fleet.outcomes('k5'))[0]!.state, 'failed');
  });

  it('an item that does not read as a promotion is refused, naming it, rather than decided from half-read', async () => {
    const doc = DynamoDBDocumentClient.from(db.client);
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'promotion', sk: 'broken', state: { key: 'broken', rings: [] }, version: 1 } }));
    await assert.rejects(fleet.promotions(), (e: unknown) => e instanceof InvalidInputError && /fleet table promotion\/broken\.state/.test(e.message));
  });
});
