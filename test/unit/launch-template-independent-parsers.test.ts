import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ClusterConnection, NodeImageFamily } from '../../shared/launch-templates/types.js';
import { renderUserData } from '../../shared/launch-templates/user-data.js';

/**
 * The rendered user data read by parsers that share no code with ours (issue 15, item 6):
 * Python's `email` package for the MIME document (what cloud-init itself uses), `tomllib` for
 * Bottlerocket's settings, PyYAML for the NodeConfig — each on the text EC2 would hand the
 * node: base64 as stored in the template, decoded.
 */

const FIXTURES = new URL('./fixtures/launch-templates/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

const cluster: ClusterConnection = {
  name: 'prod',
  endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthority: 'Y2VydGlmaWNhdGVBdXRob3JpdHk=',
  serviceIpv4Cidr: '172.20.0.0/16',
};

/** As the template stores it: base64 of the rendered text. */
function rendered(family: NodeImageFamily, maxPods: number): string {
  const text = renderUserData({ family, mode: 'full-bootstrap', cluster, existing: fixture(`${family}.existing.txt`), maxPods, labels: { 'node.example.com/pool': 'general' } });
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Runs a Python program on the base64 user data (stdin); its stdout is JSON. */
function python(program: string, userDataBase64: string): any {
  const out = execFileSync('python3', ['-c', program], { input: userDataBase64, encoding: 'utf8' });
  return JSON.parse(out);
}

const MIME_PARTS = `
import base64, email, email.policy, json, sys
raw = base64.b64decode(sys.stdin.read())
message = email.message_from_bytes(raw, policy=email.policy.default)
assert message.is_multipart(), 'not multipart'
parts = [{'type': p.get_content_type(), 'body': p.get_payload(decode=True).decode('utf-8')} for p in message.iter_parts()]
print(json.dumps({'defects': [str(d) for d in message.defects], 'parts': parts}))
`;

const NODE_CONFIG = `
import base64, email, email.policy, json, sys, yaml
message = email.message_from_bytes(base64.b64decode(sys.stdin.read()), policy=email.policy.default)
docs = [d for p in message.iter_parts() if p.get_content_type() == 'application/node.eks.aws' for d in yaml.safe_load_all(p.get_payload(decode=True)) if d]
print(json.dumps(docs))
`;

const TOML = `
import base64, json, sys, tomllib
print(json.dumps(tomllib.loads(base64.b64decode(sys.stdin.read()).decode('utf-8'))))
`;

describe('Rendered user data read by independent parsers (Python email, tomllib, PyYAML)', () => {
  it('AL2: email reads the user\'s parts in order, the user\'s script with one bootstrap carrying the user\'s arguments', () => {
    const { defects, parts } = python(MIME_PARTS, rendered('al2', 29));
    assert.deepEqual(defects, []);
    assert.deepEqual(parts.map((p: any) => p.type), ['text/cloud-config', 'text/x-shellscript']);
    assert.match(parts[0].body, /amazon-ssm-agent/);
    assert.match(parts[1].body, /vm\.max_map_count/);
    assert.equal(parts[1].body.match(/bootstrap\.sh/g).length, 1);
    assert.match(parts[1].body, /^\/etc\/eks\/bootstrap\.sh prod \\$/m);
    assert.match(parts[1].body, /--kubelet-extra-args '--max-pods=29 --node-labels=node\.example\.com\/pool=general'/);
  });

  it('AL2023: email finds one NodeConfig part, PyYAML reads it: the cluster, the user\'s kubelet settings kept, max pods', () => {
    const { defects, parts } = python(MIME_PARTS, rendered('al2023', 110));
    assert.deepEqual(defects, []);
    assert.deepEqual(parts.map((p: any) => p.type), ['text/x-shellscript', 'application/node.eks.aws']);
    const [config, ...more] = python(NODE_CONFIG, rendered('al2023', 110));
    assert.equal(more.length, 0);
    assert.equal(config.apiVersion, 'node.eks.aws/v1alpha1');
    assert.equal(config.kind, 'NodeConfig');
    assert.deepEqual(config.spec.cluster, { name: 'prod', apiServerEndpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority, cidr: cluster.serviceIpv4Cidr });
    assert.deepEqual(config.spec.kubelet.config, { imageGCHighThresholdPercent: 70, maxPods: 110 });
    // the user's label kept beside the one passed
    assert.deepEqual(config.spec.kubelet.flags, ['--node-labels=team=payments,node.example.com/pool=general']);
  });

  it('Bottlerocket: tomllib reads the settings: the cluster\'s, the user\'s tables kept, max pods and labels', () => {
    const settings = python(TOML, rendered('bottlerocket', 58)).settings;
    assert.equal(settings.kubernetes['cluster-name'], 'prod');
    assert.equal(settings.kubernetes['api-server'], cluster.endpoint);
    assert.equal(settings.kubernetes['cluster-certificate'], cluster.certificateAuthority);
    assert.equal(settings.kubernetes['cluster-dns-ip'], '172.20.0.10');
    assert.equal(settings.kubernetes['max-pods'], 58);
    assert.deepEqual(settings.kubernetes['node-labels'], { 'node.example.com/pool': 'general' });
    assert.deepEqual(settings.kubernetes['system-reserved'], { cpu: '10m', memory: '100Mi', 'ephemeral-storage': '1Gi' });
    assert.deepEqual(settings['host-containers'], { admin: { enabled: true } });
  });
});
