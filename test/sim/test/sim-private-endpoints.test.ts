import assert from 'node:assert/strict';
import https from 'node:https';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KubeRestClient, KubeTransportError } from '../../../shared/kube/rest-client.js';
import { VirtualClock } from '../clock.js';
import { runAsInvocation } from '../lambda.js';
import { CONNECT_TIMEOUT_MS, PrivateEndpoints } from '../private-endpoints.js';
import type { SimFunction } from '../serverless-config.js';

/**
 * The private-endpoint gate on its own: who reaches a private cluster endpoint, and how a
 * connection that cannot open ends — at the client's deadline on the virtual clock, or at the
 * kernel's connect timeout for a client without one.
 */
const VPC = 'vpc-0aaaaaaaaaaaaaaaa';
const SUBNET_IN = 'subnet-0aaaaaaaaaaaaaaaa';
const SUBNET_OUT = 'subnet-0bbbbbbbbbbbbbbbb';
// nothing listens on port 1: a request that is let through is refused at once
const PORT = 1;
const fn = (key: string, subnets?: string[]) => ({ key, ...(subnets ? { vpcConfig: { subnetIds: subnets, securityGroupIds: ['sg-0cccccccccccccccc'] } } : {}) }) as SimFunction;
const FUNCTIONS = [fn('outside'), fn('inside', [SUBNET_IN]), fn('elsewhere', [SUBNET_OUT])];
// any CA: the held requests never reach TLS, the refused one fails before it
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n').toString('base64');

describe('Sandbox: private cluster endpoints', () => {
  let clock: VirtualClock;
  let gate: PrivateEndpoints;
  const notes: string[] = [];
  beforeEach(() => {
    clock = new VirtualClock();
    gate = new PrivateEndpoints(clock, (key) => FUNCTIONS.find((f) => f.key === key), (subnet) => ({ [SUBNET_IN]: VPC, [SUBNET_OUT]: 'vpc-0dddddddddddddddd' })[subnet], (n) => notes.push(n));
    gate.add({ cluster: 'prod', port: PORT, vpcId: VPC, address: '10.0.0.17' });
  });
  afterEach(() => gate.restore());

  /** runs `body` as an invocation of `key` while the clock settles; the error it ends with, and the virtual ms it took */
  async function invoke(key: string, body: () => Promise<unknown>): Promise<{ error: NodeJS.ErrnoException; ms: number }> {
    const start = clock.now();
    const outcome = runAsInvocation(clock, key, null, body).then(
      () => assert.fail('the request was answered'),
      (error: NodeJS.ErrnoException) => error,
    );
    await clock.settle();
    return { error: await outcome, ms: clock.now() - start };
  }
  const kubeGet = () => new KubeRestClient({ endpoint: `https://127.0.0.1:${PORT}`, caData: CA, token: () => 'k8s-aws-v1.x' }).send({ method: 'GET', path: '/api/v1/nodes' });
  const bareGet = () =>
    new Promise((resolve, reject) => {
      https.request({ host: '127.0.0.1', port: PORT, path: '/api/v1/nodes' }, resolve).on('error', reject).end();
    });

  it('from a function outside the VPC, the service\'s client gives up at its own 10 s deadline, on the virtual clock', async () => {
    const { error, ms } = await invoke('outside', kubeGet);
    assert.ok(error instanceof KubeTransportError);
    assert.equal((error as KubeTransportError).code, 'TIMEOUT');
    assert.match(error.message, /no answer within 10000 ms/);
    assert.equal(ms, 10_000);
    assert.deepEqual(gate.held.map((h) => [h.function, h.ended]), [['outside', 'client deadline']]);
  });

  it('a function in another VPC is outside too', async () => {
    const { ms } = await invoke('elsewhere', kubeGet);
    assert.equal(ms, 10_000);
  });

  it('a client with no deadline of its own waits for the kernel: connect ETIMEDOUT after 127 s', async () => {
    const { error, ms } = await invoke('outside', bareGet);
    assert.equal(error.code, 'ETIMEDOUT');
    assert.equal(error.message, 'connect ETIMEDOUT 10.0.0.17:443');
    assert.equal(ms, CONNECT_TIMEOUT_MS);
  });

  it('from a function in the cluster\'s VPC, or from outside any invocation, the request goes through (here: refused, nothing listens)', async () => {
    const { error, ms } = await invoke('inside', kubeGet);
    assert.equal((error as KubeTransportError).code, 'ECONNREFUSED');
    assert.equal(ms, 0);
    await assert.rejects(bareGet(), { code: 'ECONNREFUSED' });
    assert.deepEqual(gate.held, []);
  });
});
