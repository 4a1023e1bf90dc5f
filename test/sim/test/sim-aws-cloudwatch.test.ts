import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { authRequests } from '../iam/requests.js';
import { World } from '../world.js';

/** CloudWatch alarms as the sandbox answers DescribeAlarms (aws/cloudwatch.ts). */
describe('Sandbox: CloudWatch alarms', () => {
  let world: World;
  let cw: CloudWatchClient;

  before(async () => {
    world = await World.start();
    cw = new CloudWatchClient({ region: world.account.region });
  });
  after(() => world.stop());

  it('answers DescribeAlarms by name and state, as metric alarms, paged', async () => {
    world.setAlarmState('api-5xx', 'ALARM');
    world.setAlarmState('api-latency', 'OK');
    world.account.cloudwatch.putAlarm('fresh');
    const named = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['api-5xx', 'api-latency', 'fresh', 'unknown'] }));
    assert.deepEqual(named.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue]), [['api-5xx', 'ALARM'], ['api-latency', 'OK'], ['fresh', 'INSUFFICIENT_DATA']]);
    assert.match(named.MetricAlarms![0]!.AlarmArn!, /^arn:aws:cloudwatch:[\w-]+:\d{12}:alarm:api-5xx$/);
    const firing = await cw.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    assert.deepEqual(firing.MetricAlarms?.map((a) => a.AlarmName), ['api-5xx']);
    const first = await cw.send(new DescribeAlarmsCommand({ MaxRecords: 2 }));
    const second = await cw.send(new DescribeAlarmsCommand({ MaxRecords: 2, NextToken: first.NextToken }));
    assert.deepEqual([...first.MetricAlarms!, ...second.MetricAlarms!].map((a) => a.AlarmName), ['api-5xx', 'api-latency', 'fresh']);
    assert.equal(second.NextToken, undefined);
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }))).MetricAlarms, []);
  });

  it('refuses more than 100 names, as CloudWatch does', async () => {
    const names = Array.from({ length: 101 }, (_, i) => `a-${i}`);
    await assert.rejects(cw.send(new DescribeAlarmsCommand({ AlarmNames: names })), (e: Error) => e.name === 'ValidationError');
  });

  it('asks IAM about cloudwatch:DescribeAlarms on each named alarm', () => {
    const requests = authRequests({ account: world.account }, 'cloudwatch', 'DescribeAlarms', { AlarmNames: ['api-5xx'] });
    assert.deepEqual(requests.map((r) => [r.action, r.resource]), [['cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:${world.account.region}:${world.account.accountId}:alarm:api-5xx`]]);
  });
});
