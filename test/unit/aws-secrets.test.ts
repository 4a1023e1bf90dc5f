import { awsScope } from '../../shared/aws/clients.js';
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterNotFound,
  SSMClient,
  SSMServiceException,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { cachedSecret } from '../../shared/aws/secrets.js';
import { AwsTransientError, ConfigurationError } from '../../shared/errors.js';
import { SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };
const NAME = '/eks-node-lifecycle/prod/slack/signing-secret';
const SECRET = 'f00dfacecafe0123456789abcdef0123';

function answer(value: string) {
  return { Parameter: { Name: NAME, Type: 'SecureString' as const, Value: value, Version: 1 } };
}

function awsError(name: string, message: string, fault: 'client' | 'server' = 'client') {
  return new SSMServiceException({ name, message, $fault: fault, $metadata: { httpStatusCode: fault === 'server' ? 500 : 400 } });
}

describe('cachedSecret', () => {
  const ssmMock = mockClient(SSMClient);
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    ssmMock.reset();
    clock = 1_700_000_000_000;
  });
  afterEach(() => ssmMock.reset());
  after(() => ssmMock.restore());

  it('asks SSM once, with decryption, for many reads within the TTL', async () => {
    ssmMock.on(GetParameterCommand).resolves(answer(SECRET));
    const read = cachedSecret(awsScope(config), NAME, { ttlMs: 60_000, now });
    for (let i = 0; i < 10; i++) {
      assert.equal(await read(), SECRET);
      clock += 5_000; // 45 s in all: still inside the minute
    }
    assert.equal(ssmMock.commandCalls(GetParameterCommand).length, 1);
    assert.deepEqual(ssmMock.commandCalls(GetParameterCommand)[0]!.args[0].input, { Name: NAME, WithDecryption: true });
  });

  it('asks again after the TTL, and serves the rotated value', async () => {
    ssmMock.on(GetParameterCommand).resolvesOnce(answer('old-secret')).resolvesOnce(answer('new-secret'));
    const read = cachedSecret(awsScope(config), NAME, { now });
    assert.equal(await read(), 'old-secret');
    clock += 299_999;
    assert.equal(await read(), 'old-secret');
    clock += 1; // five minutes, the default TTL
    assert.equal(await read(), 'new-secret');
    assert.equal(ssmMock.commandCalls(GetParameterCommand).length, 2);
  });

  it('shares one request between concurrent first reads', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    ssmMock.on(GetParameterCommand).callsFake(async () => {
      await gate;
      return answer(SECRET);
    });
    const read = cachedSecret(awsScope(config), NAME, { now });
    const reads = Array.from({ length: 20 }, () => read());
    release();
    assert.deepEqual(await Promise.all(reads), Array(20).fill(SECRET));
    assert.equal(ssmMock.commandCalls(GetParameterCommand).length, 1);
  });

  it('does not cache a failure: the next read asks again', async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolvesOnce(answer(SECRET));
    const read = cachedSecret(awsScope(config), NAME, { now });
    await assert.rejects(read(), (error: unknown) => {
      assert.ok(error instanceof AwsTransientError);
      assert.equal(error.operation, 'ssm:GetParameter');
      return true;
    });
    assert.equal(await read(), SECRET);
    assert.equal(await read(), SECRET);
    assert.equal(ssmMock.commandCalls(GetParameterCommand).length, 2);
  });

  it('turns a missing parameter into a ConfigurationError that names it and not the value', async () => {
    ssmMock.on(GetParameterCommand).resolvesOnce(answer(SECRET)).rejects(new ParameterNotFound({ message: '', $metadata: {} }));
    const read = cachedSecret(awsScope(config), NAME, { ttlMs: 1_000, now });
    assert.equal(await read(), SECRET);
    clock += 1_000; // expired; meanwhile someone deleted the parameter
    await assert.rejects(read(), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError);
      assert.equal(error.name, 'ConfigurationError');
      assert.equal(error.retryable, false);
      assert.match(error.message, new RegExp(`${NAME} does not exist`));
      assert.ok(!error.message.includes(SECRET));
      assert.ok(!JSON.stringify(error, Object.getOwnPropertyNames(error)).includes(SECRET));
      return true;
    });
  });

  it('turns access denied (IAM or KMS) and an empty value into ConfigurationErrors', async () => {
    ssmMock.on(GetParameterCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: kms:Decrypt'));
    await assert.rejects(cachedSecret(awsScope(config), NAME, { now })(), (error: unknown) => error instanceof ConfigurationError && error.message.includes(NAME));
    ssmMock.reset();
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Type: 'SecureString', Value: '' } });
    await assert.rejects(cachedSecret(awsScope(config), NAME, { now })(), /is empty/);
  });
});

describe('cachedSecret against the sandbox SSM', () => {
  it('reads a SecureString and a Secrets Manager secret through its /aws/reference path', async (t) => {
    const account = new SimAccount({ clock: new VirtualClock(), catalogue: false }).bind();
    t.after(() => account.restore());
    account.ssm.putSecureString(NAME, SECRET);
    const token = account.ssm.putSecret('eks-node-lifecycle/slack-bot-token', 'xoxb-sandbox');
    const ssm = awsScope(config);
    assert.equal(await cachedSecret(ssm, NAME)(), SECRET);
    assert.equal(await cachedSecret(ssm, token)(), 'xoxb-sandbox');
    await assert.rejects(cachedSecret(ssm, '/eks-node-lifecycle/prod/slack/missing')(), ConfigurationError);
  });
});

describe('Sandbox SSM: private parameters and secrets', () => {
  function sandbox(t: { after: (fn: () => void) => void }) {
    const account = new SimAccount({ clock: new VirtualClock(), catalogue: false }).bind();
    t.after(() => account.restore());
    return { account, ssm: new SSMClient(config) };
  }

  it('shows a SecureString in plaintext only WithDecryption, as AWS does', async (t) => {
    const { account, ssm } = sandbox(t);
    account.ssm.putSecureString(NAME, SECRET);
    const plain = (await ssm.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }))).Parameter!;
    assert.equal(plain.Value, SECRET);
    assert.equal(plain.Type, 'SecureString');
    assert.equal(plain.Version, 1);
    assert.equal(plain.ARN, `arn:aws:ssm:eu-west-1:111122223333:parameter${NAME}`);
    const sealed = (await ssm.send(new GetParameterCommand({ Name: NAME }))).Parameter!;
    assert.equal(sealed.Type, 'SecureString');
    assert.notEqual(sealed.Value, SECRET);
    assert.ok(!sealed.Value!.includes(SECRET));
    assert.match(sealed.Value!, /^AQICAH[A-Za-z0-9+/]+=*$/);
    // the same holds for GetParameters and GetParametersByPath
    const many = await ssm.send(new GetParametersCommand({ Names: [NAME] }));
    assert.equal(many.Parameters![0]!.Value, sealed.Value);
    const byPath = await ssm.send(new GetParametersByPathCommand({ Path: '/eks-node-lifecycle', Recursive: true, WithDecryption: true }));
    assert.deepEqual(byPath.Parameters!.map((p) => p.Value), [SECRET]);
    // the plaintext is nowhere in the call log
    assert.ok(!JSON.stringify(account.calls).includes(SECRET));
  });

  it('keeps versions: a rotation is version 2, and name:1 still reads the old value', async (t) => {
    const { account, ssm } = sandbox(t);
    account.ssm.putSecureString(NAME, 'first-secret');
    account.ssm.putSecureString(NAME, 'second-secret');
    account.ssm.putParameter('/eks-node-lifecycle/prod/slack/channel', 'C0CA5');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }))).Parameter!.Value, 'second-secret');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${NAME}:1`, WithDecryption: true }))).Parameter!.Value, 'first-secret');
    const plainString = (await ssm.send(new GetParameterCommand({ Name: '/eks-node-lifecycle/prod/slack/channel' }))).Parameter!;
    assert.deepEqual([plainString.Type, plainString.Value], ['String', 'C0CA5']);
  });

  it('answers ParameterNotFound for a missing parameter', async (t) => {
    const { ssm } = sandbox(t);
    await assert.rejects(ssm.send(new GetParameterCommand({ Name: '/eks-node-lifecycle/nope', WithDecryption: true })), ParameterNotFound);
  });

  it('serves a Secrets Manager secret through /aws/reference/secretsmanager/, only WithDecryption', async (t) => {
    const { account, ssm } = sandbox(t);
    const name = account.ssm.putSecret('prod/slack-bot-token', 'xoxb-sandbox');
    assert.equal(name, '/aws/reference/secretsmanager/prod/slack-bot-token');
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    assert.equal(Parameter!.Value, 'xoxb-sandbox');
    assert.match(Parameter!.ARN!, /^arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod\/slack-bot-token-[A-Za-z0-9]{6}$/);
    await assert.rejects(ssm.send(new GetParameterCommand({ Name: name })), (error: Error) => error instanceof ValidationException && /WithDecryption flag must be True/.test(error.message));
  });

  it('keeps the AWS namespace for AWS', (t) => {
    const { account } = sandbox(t);
    assert.throws(() => account.ssm.putSecureString('/aws/service/mine', 'x'), /AWS-reserved/);
  });
});
