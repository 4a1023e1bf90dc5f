import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GetParametersCommand, SSMClient, type GetParametersCommandInput } from '@aws-sdk/client-ssm';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { identityFromAmiType } from '../../shared/ami/ami-family.js';
import { parameterNamesFor, SsmParameterCache } from '../../shared/ami/ssm-parameters.js';
import { AwsTransientError } from '../../shared/errors.js';
import { AMI_TYPES, naming, SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

describe('SSM parameters: names per family', () => {
  it('are exactly the names the sandbox catalogue publishes, for every amiType it models', () => {
    for (const [amiType, info] of Object.entries(AMI_TYPES)) {
      for (const kubernetesVersion of ['1.30', '1.31', '1.32']) {
        const expected = naming({ ...info, kubernetesVersion, date: '20261105' });
        const names = parameterNamesFor(identityFromAmiType(amiType, kubernetesVersion)!);
        assert.equal(names.imageId, expected.imageIdParameter, amiType);
        assert.equal(names.release, expected.releaseParameter, amiType);
      }
    }
  });

  it('match the reference paths', () => {
    const id = (amiType: string) => parameterNamesFor(identityFromAmiType(amiType, '1.31')!);
    assert.deepEqual(id('AL2023_ARM_64_STANDARD'), {
      imageId: '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard/recommended/image_id',
      release: '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard/recommended/release_version',
      releaseFolder: '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard',
    });
    assert.equal(id('AL2_x86_64').imageId, '/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/image_id');
    assert.equal(id('AL2_ARM_64').imageId, '/aws/service/eks/optimized-ami/1.31/amazon-linux-2-arm64/recommended/image_id');
    assert.equal(id('AL2_x86_64_GPU').imageId, '/aws/service/eks/optimized-ami/1.31/amazon-linux-2-gpu/recommended/image_id');
    assert.deepEqual(id('BOTTLEROCKET_x86_64_NVIDIA'), {
      imageId: '/aws/service/bottlerocket/aws-k8s-1.31-nvidia/x86_64/latest/image_id',
      release: '/aws/service/bottlerocket/aws-k8s-1.31-nvidia/x86_64/latest/image_version',
    });
    assert.equal(id('BOTTLEROCKET_ARM_64_FIPS').imageId, '/aws/service/bottlerocket/aws-k8s-1.31-fips/arm64/latest/image_id');
    assert.deepEqual(id('WINDOWS_FULL_2025_x86_64'), { imageId: '/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-EKS_Optimized-1.31/image_id' });
  });

  it('all resolve in the sandbox account (one GetParameters per ten names)', async (t) => {
    const account = new SimAccount({ clock: new VirtualClock() }).bind();
    t.after(() => account.restore());
    // the catalogue seeds no arm64 NVIDIA Bottlerocket line
    const names = Object.keys(AMI_TYPES).filter((amiType) => amiType !== 'BOTTLEROCKET_ARM_64_NVIDIA').flatMap((amiType) => {
      const n = parameterNamesFor(identityFromAmiType(amiType, '1.31')!);
      return [n.imageId, ...(n.release ? [n.release] : [])];
    });
    const cache = new SsmParameterCache(awsScope(config));

    const values = await cache.get(names);

    assert.deepEqual([...values].filter(([, v]) => v === undefined).map(([k]) => k), []);
    assert.equal(account.calls.filter((c) => c.command === 'GetParameters').length, Math.ceil(new Set(names).size / 10));
  });

  it('maps throttling from the sandbox account too', async (t) => {
    const account = new SimAccount({ clock: new VirtualClock() }).bind();
    t.after(() => account.restore());
    account.faults.throttle('GetParameters', 3); // every attempt the SDK makes (3): it retries throttling itself
    const cache = new SsmParameterCache(awsScope(config));

    await assert.rejects(cache.get(['/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id']), AwsTransientError);
  });
});

describe('SSM parameters: SsmParameterCache', () => {
  // created per test: the sandbox account binds the same client class in other tests
  let ssm: AwsStub<any, any, any>;
  const known = (name: string) => !name.includes('missing');
  let throttleNext = 0;
  afterEach(() => ssm.restore());
  beforeEach(() => {
    ssm = mockClient(SSMClient);
    throttleNext = 0;
    ssm.on(GetParametersCommand).callsFake((input: GetParametersCommandInput) => {
      if (throttleNext-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      if ((input.Names ?? []).length > 10) throw Object.assign(new Error('Member must have length less than or equal to 10'), { name: 'ValidationException' });
      return {
        Parameters: (input.Names ?? []).filter(known).map((Name) => ({ Name, Value: `value of ${Name}`, Type: 'String' })),
        InvalidParameters: (input.Names ?? []).filter((n) => !known(n)),
      };
    });
  });
  const names = (n: number, prefix = '/p') => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);

  for (const n of [1, 9, 10, 11, 25, 40]) {
    it(`sends ceil(${n}/10) GetParameters calls for ${n} distinct names, none for a repeat`, async () => {
      const cache = new SsmParameterCache(awsScope(config));

      const first = await cache.get([...names(n), ...names(n)]);
      const again = await cache.get(names(n).reverse());

      assert.equal(ssm.commandCalls(GetParametersCommand).length, Math.ceil(n / 10));
      assert.equal(cache.calls, Math.ceil(n / 10));
      assert.ok(ssm.commandCalls(GetParametersCommand).every((c) => c.args[0].input.Names!.length <= 10));
      assert.equal(first.size, n);
      assert.equal(again.get('/p/0'), 'value of /p/0');
    });
  }

  it('fetches only the names it has not seen', async () => {
    const cache = new SsmParameterCache(awsScope(config));
    await cache.get(names(5));

    await cache.get([...names(5), '/q/1', '/q/2']);

    assert.equal(cache.calls, 2);
    assert.deepEqual(ssm.commandCalls(GetParametersCommand)[1]!.args[0].input.Names, ['/q/1', '/q/2']);
  });

  it('does not ask twice for a name a concurrent get is already fetching', async () => {
    const cache = new SsmParameterCache(awsScope(config));

    await Promise.all([cache.get(['/a', '/b']), cache.get(['/b', '/a'])]);

    assert.equal(cache.calls, 1);
  });

  it('treats InvalidParameters as missing, and remembers that', async () => {
    const cache = new SsmParameterCache(awsScope(config));

    const values = await cache.get(['/p/1', '/missing/1']);
    await cache.get(['/missing/1']);

    assert.equal(values.get('/p/1'), 'value of /p/1');
    assert.ok(values.has('/missing/1'));
    assert.equal(values.get('/missing/1'), undefined);
    assert.equal(cache.calls, 1);
  });

  it('maps throttling to AwsTransientError and asks again on the next get', async () => {
    throttleNext = 1;
    const cache = new SsmParameterCache(awsScope(config));

    await assert.rejects(cache.get(['/p/1']), (error: Error) => error instanceof AwsTransientError && error.name === 'AwsTransientError');
    const values = await cache.get(['/p/1']);

    assert.equal(values.get('/p/1'), 'value of /p/1');
    assert.equal(cache.calls, 2);
  });
});
