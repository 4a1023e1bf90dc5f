import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { World } from '@eks-node-lifecycle/sandbox';

/** The sandbox itself: what `npm run sandbox` offers and what every later issue relies on. */
const run = promisify(execFile);
const hasKubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false);

describe('Sandbox', () => {
  let world: World;
  before(async () => {
    world = await World.start();
    await world.addCluster('prod');
    await world.addCluster('staging');
    world.account.seedVpc();
    world.account.createManagedNodegroup({ cluster: 'prod', name: 'system', instanceTypes: ['m5.large'], min: 2, max: 2, desired: 2 });
    await world.settle();
  });
  after(() => world.stop());

  it('lets the standard kubectl get nodes and pods and cordon, with an EKS token', { skip: !hasKubectl && 'kubectl is not installed' }, async () => {
    const kubeconfig = await world.writeKubeconfig('prod');
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args]);
    const nodes = (await kubectl('get', 'nodes', '--no-headers')).stdout.trim().split('\n');
    assert.equal(nodes.length, 2);
    assert.ok(nodes.every((line) => / Ready /.test(line)), nodes.join('\n'));
    const name = nodes[0]!.split(/\s+/)[0]!;
    await kubectl('get', 'pods', '-A');
    await kubectl('cordon', name);
    assert.equal((world.cluster('prod').store.get('nodes', undefined, name) as any).spec.unschedulable, true);
  });

  it('refuses a token minted for another cluster', { skip: !hasKubectl && 'kubectl is not installed' }, async () => {
    const stagingToken = JSON.parse(readFileSync(await world.writeKubeconfig('staging'), 'utf8')).users[0].user.token;
    const prodConfig = JSON.parse(readFileSync(await world.writeKubeconfig('prod'), 'utf8'));
    prodConfig.users[0].user.token = stagingToken;
    const forged = `${world.cluster('prod').kubeconfigPath}.forged`;
    writeFileSync(forged, JSON.stringify(prodConfig));
    await assert.rejects(run('kubectl', ['--kubeconfig', forged, 'get', 'nodes']), (e: { stderr: string }) => /Unauthorized|must be logged in/i.test(e.stderr));
  });

  it('serves DynamoDB for real (dynalite) to the standard client', async () => {
    const ddb = new DynamoDBClient({ region: 'eu-west-1' });
    await ddb.send(new CreateTableCommand({ TableName: 'locks', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
    await ddb.send(new PutItemCommand({ TableName: 'locks', Item: { pk: { S: 'prod/web' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await assert.rejects(ddb.send(new PutItemCommand({ TableName: 'locks', Item: { pk: { S: 'prod/web' } }, ConditionExpression: 'attribute_not_exists(pk)' })), { name: 'ConditionalCheckFailedException' });
    assert.deepEqual((await ddb.send(new GetItemCommand({ TableName: 'locks', Key: { pk: { S: 'prod/web' } } }))).Item, { pk: { S: 'prod/web' } });
  });

  it('routes events by the patterns in serverless.yml and nothing else', () => {
    const before = world.bus.deliveries.length;
    world.bus.put(world.bus.envelope({ 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', detail: { 'instance-id': 'i-0123456789abcdef0', state: 'stopping' } }));
    world.bus.put(world.bus.envelope({ 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.custom', detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' } }));
    assert.equal(world.bus.deliveries.length, before, 'no rule matches');
    const [delivery] = world.bus.put(world.bus.envelope({ 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' } }));
    assert.equal(delivery?.function, 'tagInstance');
  });

  it('names executions like Step Functions: same name and input while running is the same execution, otherwise ExecutionAlreadyExists', async () => {
    const sfn = new SFNClient({ region: 'eu-west-1' });
    const stateMachineArn = world.model.stateMachines[0]!.arn;
    const input = JSON.stringify({ cluster: 'prod', instanceId: 'i-0123456789abcdef0', lifecycleAction: { autoScalingGroupName: 'g', lifecycleHookName: 'h', lifecycleActionToken: '11111111-2222-3333-4444-555555555555', instanceId: 'i-0123456789abcdef0' }, deadline: '2026-11-21T10:00:00Z' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input }));
    assert.equal(again.executionArn, first.executionArn);
    await assert.rejects(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input: '{}' })), { name: 'ExecutionAlreadyExists' });
    await assert.rejects(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'bad name!', input })), { name: 'InvalidName' });
  });
});
