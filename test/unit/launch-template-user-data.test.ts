import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { readMimeParts, writeMimeMultipart, type MimePart } from '../../shared/launch-templates/mime.js';
import type { ClusterConnection, NodeImageFamily } from '../../shared/launch-templates/types.js';
import { renderUserData } from '../../shared/launch-templates/user-data.js';
import { readBootstrap } from '@eks-node-lifecycle/sandbox';

const FIXTURES = new URL('./fixtures/launch-templates/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const FAMILIES: readonly NodeImageFamily[] = ['al2', 'al2023', 'bottlerocket', 'windows'];

const cluster: ClusterConnection = {
  name: 'prod',
  endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthority: 'Y2VydGlmaWNhdGVBdXRob3JpdHk=',
  serviceIpv4Cidr: '172.20.0.0/16',
};
const other: ClusterConnection = { ...cluster, endpoint: 'https://XYZ.gr7.eu-west-1.eks.amazonaws.com' };
const goldenOptions = {
  maxPods: 29,
  labels: { 'node.example.com/pool': 'general' },
  taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' as const }],
};

/** What the sandbox kubelet decides (test/sim/aws/kubelet.ts `decide`), for one cluster. */
async function wouldJoin(family: NodeImageFamily, userData: string, target: ClusterConnection): Promise<{ join: boolean; reason: string }> {
  const intent = await readBootstrap(family, Buffer.from(userData, 'utf8').toString('base64'));
  if (intent.problems.length) return { join: false, reason: intent.problems.join('; ') };
  if (intent.clusterName !== target.name) return { join: false, reason: `cluster ${intent.clusterName}` };
  if (intent.apiServerEndpoint !== undefined && intent.apiServerEndpoint.replace(/\/$/, '') !== target.endpoint.replace(/\/$/, '')) {
    return { join: false, reason: `endpoint ${intent.apiServerEndpoint}` };
  }
  if (intent.certificateAuthority !== undefined && intent.certificateAuthority !== target.certificateAuthority) return { join: false, reason: 'CA' };
  return { join: true, reason: 'joins' };
}

async function postalParts(raw: string): Promise<MimePart[]> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
  return email.attachments.map((a) => ({ contentType: a.mimeType, body: String(a.content) }));
}

/** smol-toml and fast-check build null-prototype objects; compare plain data */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

describe('renderUserData: golden output per family', () => {
  for (const family of FAMILIES) {
    for (const mode of ['full-bootstrap', 'eks-merges'] as const) {
      it(`renders ${family} ${mode} exactly`, () => {
        // Prepare
        const existing = fixture(`${family}.existing.txt`);
        // Act
        const out = renderUserData({ family, mode, cluster, existing, ...(mode === 'full-bootstrap' ? goldenOptions : { maxPods: 29 }) });
        // Assess
        assert.equal(out, fixture(`${family}.${mode}.txt`));
      });
    }
  }

  it('AL2: postal-mime reads the user parts in order, the bootstrap replaced where the user\'s stood', async () => {
    const parts = await postalParts(fixture('al2.full-bootstrap.txt'));
    assert.deepEqual(parts.map((p) => p.contentType), ['text/cloud-config', 'text/x-shellscript']);
    assert.match(parts[0]!.body, /amazon-ssm-agent/);
    assert.match(parts[1]!.body, /vm\.max_map_count[^]*\n\/etc\/eks\/bootstrap\.sh prod/);
    assert.equal(parts[1]!.body.match(/bootstrap\.sh/g)!.length, 1);
    assert.match(parts[1]!.body, /--kubelet-extra-args '--max-pods=29 [^']*' \\\n {2}--use-max-pods false/);
  });

  it('AL2: a bootstrap built from the script\'s own variables keeps them, in place, with the commands after it', () => {
    const existing = [
      '#!/bin/bash',
      'LABELS="team=a,tier=web"',
      'if true; then',
      '  /etc/eks/bootstrap.sh old --kubelet-extra-args "--node-labels=$LABELS"',
      'fi',
      'echo joined',
      '',
    ].join('\n');
    const out = renderUserData({ family: 'al2', mode: 'full-bootstrap', cluster, existing, maxPods: 29 });
    assert.match(out, /LABELS="team=a,tier=web"\nif true; then\n {2}\/etc\/eks\/bootstrap\.sh prod \\\n/);
    assert.match(out, / {4}--kubelet-extra-args "--node-labels=\$\{LABELS\} --max-pods=29"/);
    assert.match(out, /\nfi\necho joined\n/);
  });

  it('AL2023: the NodeConfig is valid YAML, ours on the cluster fields, the user\'s elsewhere', async () => {
    const parts = await postalParts(fixture('al2023.full-bootstrap.txt'));
    const configs = parts.filter((p) => p.contentType === 'application/node.eks.aws');
    assert.equal(configs.length, 1);
    const value = parseYaml(configs[0]!.body) as { apiVersion: string; kind: string; spec: { cluster: unknown; kubelet: { config: Record<string, unknown>; flags: string[] } } };
    assert.equal(value.apiVersion, 'node.eks.aws/v1alpha1');
    assert.equal(value.kind, 'NodeConfig');
    assert.deepEqual(value.spec.cluster, { name: 'prod', apiServerEndpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority, cidr: '172.20.0.0/16' });
    assert.deepEqual(value.spec.kubelet.config, { imageGCHighThresholdPercent: 70, maxPods: 29 });
    assert.ok(parts.some((p) => p.contentType === 'text/x-shellscript' && p.body.includes('hello from the user')));
  });

  it('Bottlerocket: smol-toml reads our cluster settings and keeps the user\'s tables', () => {
    const settings = parseToml(fixture('bottlerocket.full-bootstrap.txt')) as { settings: { kubernetes: Record<string, unknown>; 'host-containers': unknown } };
    assert.equal(settings.settings.kubernetes['cluster-name'], 'prod');
    assert.equal(settings.settings.kubernetes['api-server'], cluster.endpoint);
    assert.equal(settings.settings.kubernetes['cluster-certificate'], cluster.certificateAuthority);
    assert.equal(settings.settings.kubernetes['cluster-dns-ip'], '172.20.0.10');
    assert.equal(settings.settings.kubernetes['max-pods'], 29);
    assert.deepEqual(plain(settings.settings.kubernetes['system-reserved']), { cpu: '10m', memory: '100Mi', 'ephemeral-storage': '1Gi' });
    assert.deepEqual(plain(settings.settings['host-containers']), { admin: { enabled: true } });
  });

  it('Windows: -ServiceCIDR only for a service CIDR that is not the script default', () => {
    const custom = renderUserData({ family: 'windows', mode: 'full-bootstrap', cluster });
    const standard = renderUserData({ family: 'windows', mode: 'full-bootstrap', cluster: { ...cluster, serviceIpv4Cidr: '10.100.0.0/16' } });
    assert.match(custom, /-ServiceCIDR "172\.20\.0\.0\/16"/);
    assert.doesNotMatch(standard, /-ServiceCIDR/);
    assert.match(standard, /-DNSClusterIP "10\.100\.0\.10"/);
    assert.match(standard, /^<powershell>\n\[string\]\$EKSBootstrapScriptFile = "\$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap\.ps1"\n& \$EKSBootstrapScriptFile -EKSClusterName "prod" /);
  });
});

describe('renderUserData: the sandbox kubelet', () => {
  for (const family of FAMILIES) {
    it(`joins a ${family} node to the cluster it was rendered for, and not to another endpoint`, async () => {
      const out = renderUserData({ family, mode: 'full-bootstrap', cluster, existing: fixture(`${family}.existing.txt`), ...goldenOptions });
      assert.deepEqual(await wouldJoin(family, out, cluster), { join: true, reason: 'joins' });
      assert.equal((await wouldJoin(family, out, other)).join, false);
      const intent = await readBootstrap(family, Buffer.from(out).toString('base64'));
      assert.equal(intent.maxPods, 29);
      assert.equal(intent.labels['node.example.com/pool'], 'general');
      assert.deepEqual(intent.taints, [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
    });

    it(`never bootstraps ${family} when EKS merges`, async () => {
      const out = renderUserData({ family, mode: 'eks-merges', cluster, existing: fixture(`${family}.existing.txt`) });
      const intent = await readBootstrap(family, Buffer.from(out).toString('base64'));
      assert.ok(intent.problems.length > 0 || intent.clusterName === undefined, `${family}: ${JSON.stringify(intent)}`);
      assert.doesNotMatch(out, /bootstrap\.sh|Start-EKSBootstrap|EKSBootstrapScriptFile|cluster-name|apiServerEndpoint|old-cluster/);
    });
  }

  it('wraps a bare AL2 script as a MIME part when EKS merges (EKS requires MIME)', async () => {
    const out = renderUserData({ family: 'al2', mode: 'eks-merges', cluster, existing: '#!/bin/bash\necho hi\n' });
    assert.deepEqual(await postalParts(out), [{ contentType: 'text/x-shellscript', body: '#!/bin/bash\necho hi\n\n' }]);
  });

  it('renders nothing when EKS merges and the user has no content', () => {
    for (const family of FAMILIES) assert.equal(renderUserData({ family, mode: 'eks-merges', cluster }), '');
  });
});

// ---- properties ----

const line = fc.stringMatching(/^[a-z0-9 _=.,:-]{1,30}$/).filter((l) => l.trim() !== '' && !l.startsWith('-'));
const lines = fc.array(line, { minLength: 1, maxLength: 5 });
const linuxUserPart: fc.Arbitrary<MimePart> = fc.oneof(
  lines.map((ls) => ({ contentType: 'text/x-shellscript; charset="us-ascii"', body: `#!/bin/bash\n${ls.join('\n')}\n` })),
  lines.map((ls) => ({ contentType: 'text/cloud-config', body: `#cloud-config\n${ls.map((l) => `# ${l}`).join('\n')}\n` })),
  lines.map((ls) => ({ contentType: 'text/plain', body: ls.join('\n') })),
);
const key = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/);
const scalar = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.boolean());
const OURS = new Set(['cluster', 'maxPods', 'flags', 'kubernetes']);
const userFields = fc.dictionary(key.filter((k) => !OURS.has(k)), scalar, { maxKeys: 4 });

function isSubsequence<T>(needle: readonly T[], haystack: readonly T[], same: (a: T, b: T) => boolean): boolean {
  let at = 0;
  for (const item of haystack) if (at < needle.length && same(needle[at]!, item)) at++;
  return at === needle.length;
}

const samePart = (a: MimePart, b: MimePart) => mediaType(a.contentType) === mediaType(b.contentType) && a.body === b.body;

describe('renderUserData: properties', () => {
  it('AL2/AL2023: keeps every user MIME part in order, adds exactly one bootstrap, and is idempotent', () => {
    fc.assert(
      fc.property(fc.constantFrom<NodeImageFamily>('al2', 'al2023'), fc.array(linuxUserPart, { maxLength: 4 }), fc.option(fc.integer({ min: 4, max: 250 }), { nil: undefined }), (family, userParts, maxPods) => {
        const existing = userParts.length ? writeMimeMultipart(userParts) : undefined;
        const input = { family, mode: 'full-bootstrap' as const, cluster, ...(maxPods !== undefined ? { maxPods } : {}) };
        const once = renderUserData({ ...input, ...(existing !== undefined ? { existing } : {}) });
        const parts = readMimeParts(once);
        assert.ok(isSubsequence(userParts, parts, samePart), 'a user part was lost or reordered');
        const bootstraps = family === 'al2' ? parts.filter((p) => p.body.includes('/etc/eks/bootstrap.sh')) : parts.filter((p) => mediaType(p.contentType) === 'application/node.eks.aws');
        assert.equal(bootstraps.length, 1);
        assert.equal(renderUserData({ ...input, existing: once }), once);
      }),
      { numRuns: 300 },
    );
  });

  it('AL2023: deep-merges arbitrary NodeConfig fields; ours win only where we set them', () => {
    fc.assert(
      fc.property(userFields, userFields, (kubeletConfig, instance) => {
        const nodeConfig = `---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: someone-else\n  kubelet:\n    config: ${JSON.stringify(kubeletConfig)}\n  instance: ${JSON.stringify(instance)}\n`;
        const existing = writeMimeMultipart([{ contentType: 'application/node.eks.aws', body: nodeConfig }]);
        const out = renderUserData({ family: 'al2023', mode: 'full-bootstrap', cluster, maxPods: 17, existing });
        const [part] = readMimeParts(out).filter((p) => mediaType(p.contentType) === 'application/node.eks.aws');
        const value = parseYaml(part!.body) as { spec: { cluster: { name: string }; kubelet: { config: Record<string, unknown> }; instance: unknown } };
        assert.equal(value.spec.cluster.name, 'prod');
        assert.deepEqual(plain(value.spec.kubelet.config), plain({ ...kubeletConfig, maxPods: 17 }));
        assert.deepEqual(plain(value.spec.instance), plain(instance));
        assert.equal(renderUserData({ family: 'al2023', mode: 'full-bootstrap', cluster, maxPods: 17, existing: out }), out);
      }),
      { numRuns: 300 },
    );
  });

  it('Bottlerocket: keeps arbitrary user settings, sets the cluster ones, and is idempotent', () => {
    const tables = fc.dictionary(key.filter((k) => !OURS.has(k)), userFields, { maxKeys: 3 });
    fc.assert(
      fc.property(tables, userFields, (other, kubernetesExtra) => {
        const user = { settings: { ...other, kubernetes: { ...kubernetesExtra, 'cluster-name': 'someone-else' } } };
        const existing = renderUserData({ family: 'bottlerocket', mode: 'eks-merges', cluster, existing: stringifyToml(user) });
        const out = renderUserData({ family: 'bottlerocket', mode: 'full-bootstrap', cluster, existing: stringifyToml(user) });
        const parsed = parseToml(out) as { settings: Record<string, Record<string, unknown>> };
        for (const [name, table] of Object.entries(other)) assert.deepEqual(plain(parsed.settings[name]), plain(table));
        assert.deepEqual(plain(parsed.settings.kubernetes), { ...kubernetesExtra, 'cluster-name': 'prod', 'api-server': cluster.endpoint, 'cluster-certificate': cluster.certificateAuthority, 'cluster-dns-ip': '172.20.0.10' });
        assert.equal(renderUserData({ family: 'bottlerocket', mode: 'full-bootstrap', cluster, existing: out }), out);
        assert.ok(!('cluster-name' in ((parseToml(existing || '') as { settings?: { kubernetes?: object } }).settings?.kubernetes ?? {})));
      }),
      { numRuns: 300 },
    );
  });

  it('Windows: keeps every user PowerShell line in order, exactly one bootstrap, idempotent', () => {
    const psLine = fc.stringMatching(/^[A-Za-z0-9 "$:.=-]{1,40}$/).filter((l) => l.trim() !== '' && !/EKS/i.test(l)).map((l) => l.trim());
    fc.assert(
      fc.property(fc.array(psLine, { maxLength: 6 }), (userLines) => {
        const existing = userLines.length ? `<powershell>\n${userLines.join('\n')}\n</powershell>\n` : undefined;
        const once = renderUserData({ family: 'windows', mode: 'full-bootstrap', cluster, ...(existing ? { existing } : {}) });
        const body = once.split('\n');
        assert.ok(isSubsequence(userLines, body, (a, b) => a === b));
        assert.equal(body.filter((l) => l.startsWith('& $EKSBootstrapScriptFile')).length, 1);
        assert.equal(body.filter((l) => l.includes('Start-EKSBootstrap.ps1')).length, 1);
        assert.equal(renderUserData({ family: 'windows', mode: 'full-bootstrap', cluster, existing: once }), once);
        const merged = renderUserData({ family: 'windows', mode: 'eks-merges', cluster, existing: once });
        assert.doesNotMatch(merged, /EKSBootstrap/);
        assert.ok(isSubsequence(userLines, merged.split('\n'), (a, b) => a === b));
      }),
      { numRuns: 300 },
    );
  });

  it('eks-merges never contains a bootstrap, whatever the user had, and is idempotent', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FAMILIES), fc.array(linuxUserPart, { maxLength: 3 }), (family, userParts) => {
        // start from a full bootstrap so there is one to strip
        const existing = renderUserData({ family, mode: 'full-bootstrap', cluster, maxPods: 29, ...(family === 'al2' || family === 'al2023' ? (userParts.length ? { existing: writeMimeMultipart(userParts) } : {}) : {}) });
        const merged = renderUserData({ family, mode: 'eks-merges', cluster, existing });
        assert.doesNotMatch(merged, /bootstrap\.sh|Start-EKSBootstrap|apiServerEndpoint|api-server|cluster-certificate/);
        assert.equal(renderUserData({ family, mode: 'eks-merges', cluster, existing: merged }), merged);
        if (family === 'al2' || family === 'al2023') assert.ok(isSubsequence(userParts, readMimeParts(merged), samePart));
      }),
      { numRuns: 300 },
    );
  });
});

describe('MIME reader and writer', () => {
  it('reads what postal-mime reads (bodies and order of non-inline parts)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(linuxUserPart.filter((p) => mediaType(p.contentType) !== 'text/plain'), { minLength: 1, maxLength: 4 }), async (parts) => {
        const raw = writeMimeMultipart(parts);
        const ours = readMimeParts(raw);
        const theirs = await postalParts(raw);
        assert.deepEqual(ours.map((p) => mediaType(p.contentType)), theirs.map((p) => p.contentType));
        // postal-mime leaves the delimiter's line break on the body
        assert.deepEqual(ours.map((p) => `${p.body}\n`), theirs.map((p) => p.body));
        assert.deepEqual(ours.map((p) => p.body), parts.map((p) => p.body));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes base64 and quoted-printable parts, and reads CRLF documents', () => {
    const raw = [
      'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b',
      'Content-Type: text/x-shellscript', 'Content-Transfer-Encoding: base64', '', Buffer.from('#!/bin/bash\necho 1').toString('base64'), '--b',
      'Content-Type: text/x-shellscript', 'Content-Transfer-Encoding: quoted-printable', '', '#!/bin/bash', 'echo a=3Db =', 'c', '--b--', '',
    ].join('\r\n');
    assert.deepEqual(readMimeParts(raw).map((p) => p.body), ['#!/bin/bash\necho 1', '#!/bin/bash\necho a=b c']);
  });

  it('writes Content-Type parameters that read back the same: quoted, folded past 76 characters, kept as written when not ASCII', async () => {
    const name = 'a very long file name that goes on and on and on and on and on.txt';
    const parts = [
      { contentType: 'text/x-shellscript; charset="us-ascii"', body: '#!/bin/bash\necho hi\n' },
      { contentType: `text/cloud-boothook; charset=utf-8; name="${name}"`, body: '#cloud-boothook\n' },
      { contentType: 'text/cloud-config; name="café ☕.yaml"', body: '#cloud-config\n' },
    ];
    const raw = writeMimeMultipart(parts);
    // a token stays bare, a value with spaces is quoted, and no header line passes 76 characters
    assert.match(raw, /^Content-Type: text\/x-shellscript; charset=us-ascii$/m);
    assert.match(raw, /^Content-Type: text\/cloud-boothook; charset=utf-8;\n name="a very long file name/m);
    assert.match(raw, /^Content-Type: text\/cloud-config; name="café ☕\.yaml"$/m);
    for (const line of raw.split('\n').filter((l) => /^(Content-Type:| )/.test(l) && !l.includes('☕'))) assert.ok(line.length <= 76, line);
    const theirs = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
    assert.deepEqual(theirs.attachments.map((a) => a.filename), [null, name, 'café ☕.yaml']);
    assert.deepEqual(readMimeParts(raw).map((p) => p.contentType), ['text/x-shellscript; charset=us-ascii', `text/cloud-boothook; charset=utf-8; name="${name}"`, 'text/cloud-config; name="café ☕.yaml"']);
  });

  it('picks another boundary when a body holds the default one', () => {
    const raw = writeMimeMultipart([{ contentType: 'text/plain', body: '--//\nnot a delimiter' }]);
    assert.match(raw, /boundary="\/\/1"/);
    assert.deepEqual(readMimeParts(raw).map((p) => p.body), ['--//\nnot a delimiter']);
  });
});
