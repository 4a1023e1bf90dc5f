/**
 * DynamoDB conditional writes and queries (shared/aws/drain-records.ts,
 * shared/aws/lock-records.ts, shared/aws/audit-records.ts, on the tables serverless.yml
 * declares), Step Functions executions by name (shared/aws/step-functions.ts) and the service's
 * own events (shared/aws/notifications.ts).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DrainRecords } from '../../../shared/aws/drain-records.js';
import { publishEvent } from '../../../shared/aws/notifications.js';
import { executionArnOf, executionStatus, startExecutionOnce } from '../../../shared/aws/step-functions.js';
import { AuditLog } from '../../../shared/chatops/audit-log.js';
import { lockKeyOf, NodeGroupLocks } from '../../../shared/rollout/node-group-lock.js';
import { contractSuite, rejection } from '../contract.js';
import { type ContractTargetFactory, TABLES } from '../target.js';

const NOW = new Date('2026-12-07T10:00:00Z');

export function dynamoContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'DynamoDB conditional writes and queries', (suite) => {
    it('writes a drain record once, then only over the revision it read', async () => {
      const drains = new DrainRecords(suite.target.aws, TABLES.drains);
      assert.equal(await drains.get('i-0contract'), undefined);
      const first = await drains.write('i-0contract', undefined, { cluster: 'prod', trigger: 'terminate-hook' }, NOW);
      assert.deepEqual([first?.revision, first?.status, first?.triggers], [1, 'none', ['terminate-hook']]);
      // a second writer that also saw nothing: attribute_not_exists fails (ConditionalCheckFailedException)
      assert.equal(await drains.write('i-0contract', undefined, { cluster: 'prod' }, NOW), undefined);
      const second = await drains.write('i-0contract', first, { status: 'running', trigger: 'spot-interruption' }, NOW);
      assert.deepEqual([second?.revision, second?.status, second?.triggers], [2, 'running', ['terminate-hook', 'spot-interruption']]);
      // a writer holding the first revision lost the race
      assert.equal(await drains.write('i-0contract', first, { status: 'failed' }, NOW), undefined);
      assert.deepEqual([(await drains.get('i-0contract'))?.status, (await drains.get('i-0contract'))?.revision], ['running', 2]);
    });

    it('lets one rollout hold a node group lock; another is told who holds it', async () => {
      const locks = new NodeGroupLocks(suite.target.aws, TABLES.rollouts);
      const key = lockKeyOf('prod', 'web');
      assert.deepEqual(await locks.acquire(key, 'rollout-a', 600, NOW), { acquired: true });
      assert.deepEqual(await locks.acquire(key, 'rollout-b', 600, NOW), { acquired: false, heldBy: 'rollout-a', expiresAt: '2026-12-07T10:10:00.000Z' });
      assert.deepEqual(await locks.release(key, 'rollout-b'), { released: false });
      assert.deepEqual(await locks.release(key, 'rollout-a'), { released: true, heldSince: NOW.toISOString() });
      assert.deepEqual(await locks.acquire(key, 'rollout-b', 600, NOW), { acquired: true });
    });

    it("queries a cluster's audit history newest first, within its limit", async () => {
      const chatops = new AuditLog(suite.target.aws, TABLES.chatops);
      for (const [i, text] of ['status prod', 'plan prod/web', 'rollout prod/web'].entries()) {
        await chatops.audit({ requestId: `req-${i}`, at: new Date(NOW.getTime() + i * 60_000), principal: { id: 'U1', via: 'slack' }, clusters: ['prod'], text, result: 'done', summary: 'ok' });
      }
      const history = await chatops.history('prod', { limit: 2 });
      assert.deepEqual(history.map((e) => e.text), ['rollout prod/web', 'plan prod/web']);
      assert.deepEqual(await chatops.history('staging'), []);
    });
  });
}

export function stepFunctionsEventsContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'Step Functions executions and EventBridge events', (suite) => {
    let machine = '';
    const input = { instanceId: 'i-0contract', cluster: 'prod' };

    it('starts an execution under the name derived from its work, at the ARN derived from it', async () => {
      machine = await suite.target.seed.drainStateMachine();
      const started = await startExecutionOnce(suite.target.aws, machine, 'drain-i-0contract-1', input);
      assert.deepEqual(started, { executionArn: executionArnOf(machine, 'drain-i-0contract-1'), started: true });
      assert.equal(await executionStatus(suite.target.aws, started.executionArn), 'RUNNING');
    });

    it('does the work once: the same name with another input is ExecutionAlreadyExists', async () => {
      assert.deepEqual(await startExecutionOnce(suite.target.aws, machine, 'drain-i-0contract-1', { ...input, again: true }), {
        executionArn: executionArnOf(machine, 'drain-i-0contract-1'),
        started: false,
      });
    });

    it('refuses a name Step Functions does not allow (InvalidName), and one over 80 characters', async () => {
      assert.equal((await rejection(startExecutionOnce(suite.target.aws, machine, 'drain i-0contract', input))).name, 'InvalidName');
      assert.equal((await rejection(startExecutionOnce(suite.target.aws, machine, 'drain:i-0contract', input))).name, 'InvalidName');
      assert.equal((await rejection(startExecutionOnce(suite.target.aws, machine, 'x'.repeat(81), input))).name, 'ValidationException');
    });

    it('says MISSING for an execution Step Functions does not know', async () => {
      assert.equal(await executionStatus(suite.target.aws, executionArnOf(machine, 'never-started')), 'MISSING');
    });

    it("publishes the service's own event on the default bus", async () => {
      await publishEvent(suite.target.aws, 'Rollout Finished', { cluster: 'prod', group: 'web', summary: 'prod/web rolled' }, [machine]);
    });
  });
}
