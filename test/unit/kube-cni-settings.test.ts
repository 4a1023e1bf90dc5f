import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1DaemonSet } from '../../shared/kube/api-types.js';
import { AWS_NODE, cniSettingsOf, readCniSettings } from '../../shared/kube/cni-settings.js';
import { KubeStatusError } from '../../shared/kube/rest-client.js';
import { KubernetesAccessDeniedError } from '../../shared/errors.js';

const awsNode = (env: { name: string; value?: string }[]): V1DaemonSet => ({
  metadata: { name: 'aws-node', namespace: 'kube-system' },
  spec: { selector: {}, template: { spec: { containers: [{ name: 'aws-vpc-cni-init', env: [] }, { name: 'aws-node', env }] } } },
} as V1DaemonSet);

function kube(answer: () => Promise<V1DaemonSet>) {
  const asked: unknown[] = [];
  return { asked, apps: async () => ({ readNamespacedDaemonSet: async (params: unknown) => { asked.push(params); return answer(); } }) };
}

describe('VPC CNI settings from the aws-node DaemonSet', () => {
  it('reads prefix delegation and custom networking from its containers\' environment (true, any case)', () => {
    assert.deepEqual(cniSettingsOf(awsNode([{ name: 'ENABLE_PREFIX_DELEGATION', value: 'true' }, { name: 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', value: 'TRUE' }])), { prefixDelegation: true, customNetworking: true });
    assert.deepEqual(cniSettingsOf(awsNode([{ name: 'ENABLE_PREFIX_DELEGATION', value: 'false' }, { name: 'WARM_PREFIX_TARGET', value: '1' }])), { prefixDelegation: false, customNetworking: false });
    assert.deepEqual(cniSettingsOf(awsNode([])), { prefixDelegation: false, customNetworking: false });
  });

  it('asks for kube-system/aws-node only', async () => {
    const k = kube(async () => awsNode([{ name: 'ENABLE_PREFIX_DELEGATION', value: 'true' }]));
    assert.deepEqual(await readCniSettings(k, 'prod'), { prefixDelegation: true, customNetworking: false, source: 'aws-node' });
    assert.deepEqual(k.asked, [AWS_NODE]);
  });

  it('takes a cluster without aws-node (another CNI) for neither setting', async () => {
    const k = kube(async () => { throw new KubeStatusError(404, { message: 'daemonsets.apps "aws-node" not found' }, 'GET /apis/apps/v1/namespaces/kube-system/daemonsets/aws-node'); });
    assert.deepEqual(await readCniSettings(k, 'prod'), { prefixDelegation: false, customNetworking: false, source: 'none' });
  });

  it('fails when it may not read it, rather than guess "off" (a wrong max pods is what the read prevents)', async () => {
    const k = kube(async () => { throw new KubeStatusError(403, { message: 'forbidden' }, 'GET /apis/apps/v1/namespaces/kube-system/daemonsets/aws-node'); });
    await assert.rejects(readCniSettings(k, 'prod'), KubernetesAccessDeniedError);
  });
});
