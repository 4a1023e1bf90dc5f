import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditInput, AuditLog, NO_CLUSTER } from '../../shared/chatops/audit-log.js';
import { SlackThreads } from '../../shared/chatops/slack-threads.js';
import { approvalIdOf, Approvals, personOf } from '../../shared/rollout/approvals.js';
import { startChatopsTable } from '@eks-node-lifecycle/sandbox';
import { dynaliteScope } from './dynalite-scope.js';

const TABLE = 'chatops';
const T0 = new Date('2025-01-15T12:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const DAY = 24 * 3600;
const REQUESTER = 'slack:T1:U1';
const APPROVER = 'slack:T1:U2';
const OTHER_APPROVER = 'iam:arn:aws:iam::111122223333:role/platform-deployer';

describe('Chat-ops table (real DynamoDB)', () => {
  let db: Awaited<ReturnType<typeof startChatopsTable>>;
  let auditLog: AuditLog;
  let approvals: Approvals;
  let threads: SlackThreads;
  let doc: DynamoDBDocumentClient;
  let n = 0;
  const executionArn = () => `arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:run-${++n}`;
  const raw = async (pk: string, sk: string) => (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk } }))).Item;

  before(async () => {
    db = await startChatopsTable(TABLE);
    const scope = dynaliteScope(db.dynamo.endpoint);
    auditLog = new AuditLog(scope, TABLE);
    approvals = new Approvals(scope, TABLE);
    threads = new SlackThreads(scope, TABLE);
    doc = DynamoDBDocumentClient.from(db.client);
  });

  after(() => db.close());

  describe('audit', () => {
    const entry = (requestId: string, at: Date, clusters: string[], extra: Partial<AuditInput> = {}): AuditInput => ({
      requestId,
      at,
      principal: { id: REQUESTER, display: '<@U1>', channel: 'C0PROD', via: 'slack' },
      clusters,
      text: `status ${clusters.join(' ')}`,
      command: 'status',
      result: 'done',
      summary: 'all good',
      ...extra,
    });

    it('returns a cluster history newest first, limited, with what was written', async () => {
      for (let i = 0; i < 5; i++) await auditLog.audit(entry(`req-${i}`, later(i * 60), ['hist']));
      const all = await auditLog.history('hist');
      assert.deepEqual(all.map((e) => e.requestId), ['req-4', 'req-3', 'req-2', 'req-1', 'req-0']);
      assert.deepEqual(all[0], { ...entry('req-4', later(240), ['hist']), at: later(240).toISOString() });
      assert.deepEqual((await auditLog.history('hist', { limit: 2 })).map((e) => e.requestId), ['req-4', 'req-3']);
    });

    it('caps the limit at 100 and defaults to 20', async () => {
      await Promise.all(Array.from({ length: 105 }, (_, i) => auditLog.audit(entry(`bulk-${i}`, later(i), ['bulk']))));
      assert.equal((await auditLog.history('bulk')).length, 20);
      assert.equal((await auditLog.history('bulk', { limit: 1000 })).length, 100);
      assert.equal((await auditLog.history('bulk', { limit: 1000 }))[0]!.requestId, 'bulk-104');
    });

    it('is idempotent: the same request id and time written twice is one entry', async () => {
      await auditLog.audit(entry('same', T0, ['idem']));
      await auditLog.audit(entry('same', T0, ['idem']));
      assert.equal((await auditLog.history('idem')).length, 1);
    });

    it('writes one entry per cluster named, and commands about no cluster under NO_CLUSTER', async () => {
      await auditLog.audit(entry('multi', T0, ['part-a', 'part-b']));
      await auditLog.audit(entry('none', T0, [], { command: 'help' }));
      assert.deepEqual((await auditLog.history('part-a')).map((e) => [e.requestId, e.clusters]), [['multi', ['part-a', 'part-b']]]);
      assert.deepEqual((await auditLog.history('part-b')).map((e) => e.requestId), ['multi']);
      assert.deepEqual((await auditLog.history('part-c')), []);
      assert.ok((await auditLog.history(NO_CLUSTER)).some((e) => e.requestId === 'none' && e.command === 'help'));
    });

    it('truncates the text to 500 and the summary to 1000 characters, and sets a 400-day TTL', async () => {
      await auditLog.audit(entry('long', T0, ['trunc'], { text: 'x'.repeat(2000), summary: 'y'.repeat(5000) }));
      const [e] = await auditLog.history('trunc');
      assert.equal(e!.text.length, 500);
      assert.ok(e!.text.endsWith('…'));
      assert.equal(e!.summary.length, 1000);
      const item = await raw('audit#trunc', `${T0.toISOString()}#long`);
      assert.equal(item?.expiresAt, T0.getTime() / 1000 + 400 * DAY);
    });
  });

  describe('approvals', () => {
    const request = (arn: string, overrides: { taskToken?: string; expiresAt?: Date; now?: Date } = {}) => ({
      executionArn: arn,
      cluster: 'prod',
      group: 'web',
      taskToken: overrides.taskToken ?? 'token-1',
      requestedBy: REQUESTER,
      target: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20250115',
      plan: '3 batches of 2 nodes',
      expiresAt: overrides.expiresAt ?? later(DAY),
      now: overrides.now ?? T0,
    });

    it('derives a deterministic id from the execution ARN', () => {
      const arn = executionArn();
      assert.match(approvalIdOf(arn), /^apr-[a-z0-9]{12}$/);
      assert.equal(approvalIdOf(arn), approvalIdOf(arn));
      assert.notEqual(approvalIdOf(arn), approvalIdOf(`${arn}x`));
    });

    it('creates a pending approval, without returning the token, with a TTL a week after expiry', async () => {
      const arn = executionArn();
      const created = await approvals.createApproval(request(arn));
      const id = approvalIdOf(arn);
      assert.deepEqual(created, {
        id,
        executionArn: arn,
        cluster: 'prod',
        group: 'web',
        requestedBy: REQUESTER,
        target: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20250115',
        plan: '3 batches of 2 nodes',
        status: 'pending',
        requestedAt: T0.toISOString(),
        expiresAtIso: later(DAY).toISOString(),
      });
      assert.equal((await approvals.getApproval(id))?.taskToken, 'token-1');
      assert.equal((await raw(`approval#${id}`, 'approval'))?.expiresAt, T0.getTime() / 1000 + 8 * DAY);
    });

    it('a retried step finds the same approval and replaces its token', async () => {
      const arn = executionArn();
      await approvals.createApproval(request(arn));
      const again = await approvals.createApproval(request(arn, { taskToken: 'token-2', now: later(30), expiresAt: later(DAY + 30) }));
      assert.equal(again.id, approvalIdOf(arn));
      assert.equal(again.requestedAt, T0.toISOString());
      assert.equal('taskToken' in again, false);
      assert.equal((await approvals.getApproval(again.id))?.taskToken, 'token-2');
    });

    it('a retried step after the answer gets the answered approval unchanged', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      await approvals.answerApproval(id, { decision: 'approved', by: APPROVER, now: later(60) });
      const again = await approvals.createApproval(request(arn, { taskToken: 'token-2' }));
      assert.equal(again.status, 'approved');
      assert.equal((await approvals.getApproval(id))?.taskToken, 'token-1');
    });

    it('an answer by another person is recorded and returns the token', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      const result = await approvals.answerApproval(id, { decision: 'approved', by: APPROVER, reason: 'looks fine', now: later(60) });
      assert.equal(result.kind, 'answered');
      assert.ok(result.kind === 'answered');
      assert.equal(result.approval.taskToken, 'token-1');
      assert.equal(result.approval.status, 'approved');
      assert.equal(result.approval.answeredBy, APPROVER);
      assert.equal(result.approval.answeredAt, later(60).toISOString());
      assert.equal(result.approval.reason, 'looks fine');
      assert.deepEqual(Object.keys(result.approval).filter((k) => ['pk', 'sk', 'expiresAt', 'deadline', 'requesterPerson'].includes(k)), []);
    });

    it('the requester may not answer: own-request, and the approval stays pending', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      const result = await approvals.answerApproval(id, { decision: 'approved', by: REQUESTER, now: later(60) });
      assert.equal(result.kind, 'own-request');
      assert.ok(result.kind === 'own-request' && !('taskToken' in result.approval));
      assert.equal((await approvals.getApproval(id))?.status, 'pending');
    });

    it('the same Slack user from another workspace is the requester too', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      assert.equal(personOf('slack:T2:U1'), personOf(REQUESTER));
      assert.equal((await approvals.answerApproval(id, { decision: 'approved', by: 'slack:T2:U1', now: later(60) })).kind, 'own-request');
      assert.equal((await approvals.answerApproval(id, { decision: 'denied', by: 'slack:T1:U9', now: later(60) })).kind, 'answered');
    });

    it('after expiry an answer is refused as expired, without the token', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      const result = await approvals.answerApproval(id, { decision: 'approved', by: APPROVER, now: later(DAY) });
      assert.equal(result.kind, 'expired');
      assert.ok(result.kind === 'expired' && !('taskToken' in result.approval));
      assert.equal((await approvals.getApproval(id))?.status, 'pending');
    });

    it('a second answer is already-answered and changes nothing', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      await approvals.answerApproval(id, { decision: 'approved', by: APPROVER, now: later(60) });
      const second = await approvals.answerApproval(id, { decision: 'denied', by: OTHER_APPROVER, now: later(61) });
      assert.equal(second.kind, 'already-answered');
      assert.ok(second.kind === 'already-answered');
      assert.equal(second.approval.status, 'approved');
      assert.equal(second.approval.answeredBy, APPROVER);
      assert.equal('taskToken' in second.approval, false);
    });

    it('two people answering at once: exactly one answer is recorded', async () => {
      for (let round = 0; round < 5; round++) {
        const arn = executionArn();
        const { id } = await approvals.createApproval(request(arn));
        const results = await Promise.all([
          approvals.answerApproval(id, { decision: 'approved', by: APPROVER, now: later(60) }),
          approvals.answerApproval(id, { decision: 'denied', by: OTHER_APPROVER, now: later(60) }),
        ]);
        const answered = results.filter((r) => r.kind === 'answered');
        assert.equal(answered.length, 1);
        assert.deepEqual(results.filter((r) => r.kind !== 'answered').map((r) => r.kind), ['already-answered']);
        const stored = await approvals.getApproval(id);
        assert.equal(stored?.answeredBy, answered[0]!.kind === 'answered' ? answered[0]!.approval.answeredBy : undefined);
      }
    });

    it('an unknown or malformed id is not found', async () => {
      assert.deepEqual(await approvals.answerApproval('apr-000000000000', { decision: 'approved', by: APPROVER, now: T0 }), { kind: 'not-found' });
      assert.deepEqual(await approvals.answerApproval('approval#x', { decision: 'approved', by: APPROVER, now: T0 }), { kind: 'not-found' });
      assert.equal(await approvals.getApproval('apr-000000000000'), undefined);
    });

    it('markApprovalExpired turns pending into expired, idempotently, and leaves answered alone', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      const expired = await approvals.markApprovalExpired(id, later(DAY));
      assert.equal(expired?.status, 'expired');
      assert.equal(expired?.expiredAt, later(DAY).toISOString());
      assert.equal(expired && 'taskToken' in expired, false);
      assert.equal((await approvals.markApprovalExpired(id, later(DAY + 5)))?.expiredAt, later(DAY).toISOString());
      assert.equal((await approvals.answerApproval(id, { decision: 'approved', by: APPROVER, now: later(60) })).kind, 'expired');

      const answeredArn = executionArn();
      const answered = await approvals.createApproval(request(answeredArn));
      await approvals.answerApproval(answered.id, { decision: 'denied', by: APPROVER, now: later(60) });
      assert.equal((await approvals.markApprovalExpired(answered.id, later(DAY)))?.status, 'denied');
      assert.equal(await approvals.markApprovalExpired('apr-000000000000', T0), undefined);
    });

    it('remembers where the approval message is', async () => {
      const arn = executionArn();
      const { id } = await approvals.createApproval(request(arn));
      assert.equal(await approvals.setApprovalMessage(id, { channel: 'C0PROD', ts: '1736942400.000100' }), true);
      assert.deepEqual((await approvals.getApproval(id))?.message, { channel: 'C0PROD', ts: '1736942400.000100' });
      assert.equal(await approvals.setApprovalMessage('apr-000000000000', { channel: 'C0PROD', ts: '1' }), false);
      assert.equal(await raw('approval#apr-000000000000', 'approval'), undefined);
    });
  });

  describe('threads', () => {
    it('two concurrent claims: exactly one claims; the other sees the thread once its ts is set', async () => {
      const arn = executionArn();
      const results = await Promise.all([threads.claimThread(arn, 'C0PROD', T0), threads.claimThread(arn, 'C0OPS', T0)]);
      assert.equal(results.filter((r) => r.claimed).length, 1);
      assert.deepEqual(results.find((r) => !r.claimed), { claimed: false, thread: null });
      assert.equal(await threads.getThread(arn), null);

      assert.equal(await threads.setThreadTs(arn, '1736942400.000200'), true);
      const winner = (await raw(`thread#${arn}`, 'thread'))!.channel as string;
      assert.deepEqual(await threads.getThread(arn), { channel: winner, ts: '1736942400.000200' });
      assert.deepEqual(await threads.claimThread(arn, 'C0OTHER', later(60)), { claimed: false, thread: { channel: winner, ts: '1736942400.000200' } });
    });

    it('keeps a thread for 30 days; setThreadTs on an unclaimed thread changes nothing', async () => {
      const arn = executionArn();
      await threads.claimThread(arn, 'C0PROD', T0);
      assert.equal((await raw(`thread#${arn}`, 'thread'))?.expiresAt, T0.getTime() / 1000 + 30 * DAY);
      const unclaimed = executionArn();
      assert.equal(await threads.setThreadTs(unclaimed, '1'), false);
      assert.equal(await threads.getThread(unclaimed), null);
    });
  });
});
