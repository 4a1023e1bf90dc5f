import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify as stringifyToml } from 'smol-toml';
import { stringify as stringifyYaml } from 'yaml';
import { type BootstrapChange, diffBootstrapSettings, readBootstrapSettings } from '../../shared/launch-templates/bootstrap-settings.js';
import { kubeletArgumentWords, mergeKubeletArgs, parseKubeletArgs } from '../../shared/launch-templates/kubelet-flags.js';
import { writeMimeMultipart } from '../../shared/launch-templates/mime.js';
import { shellQuote, shellWords } from '../../shared/launch-templates/scripts.js';
import type { ClusterConnection, NodeImageFamily, RenderUserDataInput } from '../../shared/launch-templates/types.js';
import { readBootstrapTarget, renderUserData } from '../../shared/launch-templates/user-data.js';
import { powerShellWords } from '../../shared/launch-templates/windows.js';

const cluster: ClusterConnection = {
  name: 'prod',
  endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthority: 'Y2VydGlmaWNhdGVBdXRob3JpdHk=',
  serviceIpv4Cidr: '172.20.0.0/16',
};
const DNS = '172.20.0.10';

const render = (family: NodeImageFamily, existing: string, options: Partial<RenderUserDataInput> = {}) =>
  renderUserData({ family, mode: 'full-bootstrap', cluster, existing, ...options });
const changes = (family: NodeImageFamily, before: string, after: string): BootstrapChange[] =>
  diffBootstrapSettings(readBootstrapSettings(family, before), readBootstrapSettings(family, after));

describe('shellWords: POSIX words through shell-quote, not a regex over the line', () => {
  const table: [string, string[]][] = [
    [`a 'b c' "d e"`, ['a', 'b c', 'd e']],
    [`--x="a \\"quoted\\" word"`, ['--x=a "quoted" word']],
    [`'it'\\''s'`, ["it's"]],
    [`--a=1 --b 2`, ['--a=1', '--b', '2']],
    [`a\\ b`, ['a b']],
    [`"--node-labels=a=b,c=d" --x`, ['--node-labels=a=b,c=d', '--x']],
    [`bootstrap.sh prod >> /var/log/boot.log 2>&1`, ['bootstrap.sh', 'prod']],
    [`bootstrap.sh prod # a comment`, ['bootstrap.sh', 'prod']],
    [`bootstrap.sh prod && echo done`, ['bootstrap.sh', 'prod']],
    [`--kubelet-extra-args "--node-labels=$LABELS"`, ['--kubelet-extra-args', '--node-labels=${LABELS}']],
  ];
  for (const [line, words] of table) {
    it(`splits ${line}`, () => assert.deepEqual(shellWords(line), words));
  }

  it('quotes back to the same words (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ' ', "'", '"', '\\', '=', '-', ',', ':', '*', '#', ';', '&', '|', '(', '>', '`') , minLength: 1 }), { minLength: 1, maxLength: 6 }), (words) => {
        assert.deepEqual(shellWords(words.map(shellQuote).join(' ')), words);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('powerShellWords', () => {
  it('reads double quotes with backtick escapes and doubled quotes, single quotes with doubled quotes', () => {
    assert.deepEqual(powerShellWords(`& $f -A "x ""y"" \`"z\`"" -B 'it''s' -C bare`), ['&', '$f', '-A', 'x "y" "z"', '-B', "it's", '-C', 'bare']);
  });
});

describe('kubeletArgumentWords: systemd\'s splitting of the kubelet\'s extra arguments', () => {
  it('groups quotes, keeps escapes, and treats shell operators as text', () => {
    assert.deepEqual(kubeletArgumentWords(`--a=1 --eviction-hard="memory.available<5%" --b 'x y' --c=a\\ b`), ['--a=1', '--eviction-hard=memory.available<5%', '--b', 'x y', '--c=a b']);
  });
});

describe('mergeKubeletArgs', () => {
  it('keeps every flag of the user in place, in both spellings, and sets max pods once', () => {
    const user = parseKubeletArgs(['--node-labels=a=1', '--v', '2', '--max-pods=20', '--rotate-certificates', '--max-pods', '30']);
    assert.deepEqual(mergeKubeletArgs(user, { maxPods: 110 }), [
      { name: '--node-labels', value: 'a=1' },
      { name: '--v', value: '2' },
      { name: '--rotate-certificates' },
      { name: '--max-pods', value: '110' },
    ]);
  });

  it('adds the caller\'s labels and taints to the user\'s, the caller winning on the same key', () => {
    const user = parseKubeletArgs(['--node-labels=team=a,tier=web', '--register-with-taints=dedicated=gpu:NoSchedule']);
    const merged = mergeKubeletArgs(user, { labels: { tier: 'batch', zone: 'x' }, taints: [{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }, { key: 'spot', effect: 'NoExecute' }] });
    assert.deepEqual(merged, [
      { name: '--node-labels', value: 'team=a,tier=batch,zone=x' },
      { name: '--register-with-taints', value: 'dedicated=cpu:NoSchedule,spot:NoExecute' },
    ]);
  });
});

describe('AL2: every bootstrap.sh argument the user had is carried over', () => {
  const script = (args: string) => `#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh ${args}\n`;
  const userArgs = [
    `prod --b64-cluster-ca '${cluster.certificateAuthority}'`,
    `--apiserver-endpoint=${cluster.endpoint}`,
    `--dns-cluster-ip "${DNS}"`,
    `--kubelet-extra-args "--node-labels=team=a,workload=gpu --register-with-taints=dedicated=gpu:NoSchedule --v=2"`,
    `--container-runtime containerd --local-disks raid0 --ip-family 'ipv4'`,
  ].join(' \\\n  ');

  it('changes nothing but what the cluster and max pods say', () => {
    const before = script(userArgs);
    const after = render('al2', before, { maxPods: 29 });
    assert.deepEqual(changes('al2', before, after), [
      { setting: 'kubelet --max-pods', to: '29' },
      { setting: '--use-max-pods', to: 'false' },
    ]);
    const settings = readBootstrapSettings('al2', after);
    assert.equal(settings['--container-runtime'], 'containerd');
    assert.equal(settings['--local-disks'], 'raid0');
    assert.equal(settings['--ip-family'], 'ipv4');
    assert.equal(settings['kubelet --v'], '2');
    assert.equal(settings['kubelet --node-labels'], 'team=a,workload=gpu');
    assert.equal(settings['kubelet --register-with-taints'], 'dedicated=gpu:NoSchedule');
  });

  it('replaces a cluster fact only where the cluster says otherwise, and the preview says from → to', () => {
    const before = script(`old --b64-cluster-ca T0xE --apiserver-endpoint ${cluster.endpoint} --dns-cluster-ip 10.100.0.10`);
    assert.deepEqual(changes('al2', before, render('al2', before)), [
      { setting: 'cluster-name', from: 'old', to: 'prod' },
      { setting: '--b64-cluster-ca', from: 'T0xE', to: cluster.certificateAuthority },
      { setting: '--dns-cluster-ip', from: '10.100.0.10', to: DNS },
    ]);
  });

  it('keeps the user\'s explicit --max-pods over the computed one; the max-pods tag wins over both', () => {
    const before = script(`prod --kubelet-extra-args '--max-pods=50'`);
    assert.equal(readBootstrapSettings('al2', render('al2', before, { maxPods: 29 }))['kubelet --max-pods'], '50');
    assert.equal(readBootstrapSettings('al2', render('al2', before, { maxPods: 29, maxPodsOverride: 80 }))['kubelet --max-pods'], '80');
  });

  it('recomputes a max pods this service wrote itself (the source version is ours), keeping it only when nothing is computed', () => {
    const ours = render('al2', script('prod'), { maxPods: 29 });
    assert.equal(readBootstrapSettings('al2', render('al2', ours, { maxPods: 110, existingMaxPodsIsOurs: true }))['kubelet --max-pods'], '110');
    assert.equal(readBootstrapSettings('al2', render('al2', ours, { existingMaxPodsIsOurs: true }))['kubelet --max-pods'], '29');
    assert.equal(readBootstrapSettings('al2', render('al2', ours, { maxPods: 110 }))['kubelet --max-pods'], '29');
    for (const family of ['al2023', 'bottlerocket', 'windows'] as const) {
      const first = render(family, '', { maxPods: 29 });
      const second = render(family, first, { maxPods: 110, existingMaxPodsIsOurs: true });
      assert.deepEqual(changes(family, first, second).map((c) => [c.from, c.to]), [['29', '110']], family);
    }
  });

  it('keeps a repeated flag of the user\'s as written (bootstrap.sh takes the last); one of ours is written once', () => {
    const before = script(`prod --b64-cluster-ca ${cluster.certificateAuthority} --apiserver-endpoint ${cluster.endpoint} --local-disks mount --dns-cluster-ip 10.0.0.10 --local-disks raid0 --dns-cluster-ip ${DNS}`);
    const after = render('al2', before);
    assert.equal((after.match(/--local-disks/g) ?? []).length, 2);
    assert.equal((after.match(/--dns-cluster-ip/g) ?? []).length, 1);
    assert.equal(readBootstrapSettings('al2', after)['--local-disks'], 'raid0');
    assert.deepEqual(changes('al2', before, after), []);
  });

  it('keeps a value with spaces and quotes intact through the round trip', () => {
    const before = script(`prod --kubelet-extra-args '--node-labels=team=a --eviction-hard="memory.available<5%"' --pause-container-image "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/pause:3.5"`);
    const settings = readBootstrapSettings('al2', render('al2', before));
    assert.equal(settings['kubelet --eviction-hard'], 'memory.available<5%');
    assert.equal(settings['--pause-container-image'], '602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/pause:3.5');
    assert.equal(readBootstrapTarget('al2', render('al2', before))?.clusterName, 'prod');
  });
});

describe('Windows: every Start-EKSBootstrap.ps1 parameter the user had is carried over', () => {
  const ps = (call: string) => `<powershell>\n[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"\n& $EKSBootstrapScriptFile ${call} 3>&1 4>&1 5>&1 6>&1\n</powershell>\n`;

  it('changes nothing but max pods on a bootstrap that already names the cluster', () => {
    const before = ps(`-EKSClusterName 'prod' -APIServerEndpoint "${cluster.endpoint}" -Base64ClusterCA ${cluster.certificateAuthority} -DNSClusterIP "${DNS}" -ContainerRuntime containerd -KubeletExtraArgs "--node-labels=team=win --register-with-taints=os=windows:NoSchedule"`);
    const after = render('windows', before, { maxPods: 9 });
    // the cluster's service CIDR is not the script's default (10.100.0.0/16), so it is a fact the bootstrap needs
    assert.deepEqual(changes('windows', before, after), [{ setting: 'kubelet --max-pods', to: '9' }, { setting: '-ServiceCIDR', to: cluster.serviceIpv4Cidr }]);
    assert.equal(readBootstrapSettings('windows', after)['-ContainerRuntime'], 'containerd');
    assert.match(after, /-KubeletExtraArgs "--node-labels=team=win --register-with-taints=os=windows:NoSchedule --max-pods=9"/);
  });

  it('replaces the call where it stands: the variables it is built from before it, the user\'s lines after it', () => {
    const before = [
      '<powershell>',
      '$Labels = "team=win"',
      `& 'C:\\Program Files\\Amazon\\EKS\\Start-EKSBootstrap.ps1' -EKSClusterName prod -KubeletExtraArgs "--node-labels=$Labels"`,
      'Restart-Service containerd',
      '</powershell>',
      '',
    ].join('\n');
    const after = render('windows', before, { maxPods: 9 });
    assert.match(after, /^<powershell>\n\$Labels = "team=win"\n\[string\]\$EKSBootstrapScriptFile = [^\n]*\n& \$EKSBootstrapScriptFile [^\n]*-KubeletExtraArgs "--node-labels=\$Labels --max-pods=9"[^\n]*\nRestart-Service containerd\n<\/powershell>\n$/);
  });

  it('sets the cluster\'s facts where the user\'s differ, keeping the user\'s spelling of the names', () => {
    const before = ps(`-eksclustername old -APIServerEndpoint https://old.example.com -Base64ClusterCA T0xE`);
    assert.deepEqual(changes('windows', before, render('windows', before)), [
      { setting: '-eksclustername', from: 'old', to: 'prod' },
      { setting: '-APIServerEndpoint', from: 'https://old.example.com', to: cluster.endpoint },
      { setting: '-Base64ClusterCA', from: 'T0xE', to: cluster.certificateAuthority },
      { setting: '-DNSClusterIP', to: DNS },
      { setting: '-ServiceCIDR', to: cluster.serviceIpv4Cidr },
    ]);
  });
});

/**
 * The invariant (issue 15): a new version differs from the old only in the cluster's facts and
 * what was asked (max pods; labels and taints the caller passes). Old user data is generated
 * per family with random labels, taints, max pods and an unrelated setting of the user's.
 */
describe('A new version changes the image, the cluster facts and what was asked, nothing else', () => {
  const label = fc.tuple(fc.constantFrom('team', 'tier', 'example.com/pool'), fc.constantFrom('a', 'b-1', 'x.y'));
  const taint = fc.record({ key: fc.constantFrom('dedicated', 'spot', 'gpu'), value: fc.constantFrom('true', 'x'), effect: fc.constantFrom('NoSchedule' as const, 'NoExecute' as const) });
  const userSetup = fc.record({
    labels: fc.uniqueArray(label, { selector: ([k]) => k, maxLength: 3 }).map((pairs) => Object.fromEntries(pairs)),
    taints: fc.uniqueArray(taint, { selector: (t) => `${t.key}:${t.effect}`, maxLength: 2 }),
    maxPods: fc.option(fc.integer({ min: 8, max: 250 }), { nil: undefined }),
    sameCluster: fc.boolean(),
  });

  function userData(family: NodeImageFamily, s: { labels: Record<string, string>; taints: { key: string; value: string; effect: string }[]; maxPods?: number | undefined; sameCluster: boolean }): string {
    const c = s.sameCluster ? cluster : { ...cluster, name: 'old', endpoint: 'https://old.example.com', certificateAuthority: 'T0xE' };
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',');
    const taints = s.taints.map((t) => `${t.key}=${t.value}:${t.effect}`).join(',');
    const kubelet = [labels && `--node-labels=${labels}`, taints && `--register-with-taints=${taints}`, s.maxPods !== undefined && `--max-pods=${s.maxPods}`, '--v=2'].filter(Boolean).join(' ');
    switch (family) {
      case 'al2':
        return `#!/bin/bash\n/etc/eks/bootstrap.sh ${c.name} --b64-cluster-ca ${c.certificateAuthority} --apiserver-endpoint ${c.endpoint} --local-disks raid0 --kubelet-extra-args '${kubelet}'\n`;
      case 'windows':
        return `<powershell>\n& "C:\\Program Files\\Amazon\\EKS\\Start-EKSBootstrap.ps1" -EKSClusterName "${c.name}" -APIServerEndpoint "${c.endpoint}" -Base64ClusterCA "${c.certificateAuthority}" -ContainerRuntime containerd -KubeletExtraArgs "${kubelet}"\n</powershell>\n`;
      case 'al2023':
        return writeMimeMultipart([{ contentType: 'application/node.eks.aws', body: `---\n${stringifyYaml({
          apiVersion: 'node.eks.aws/v1alpha1',
          kind: 'NodeConfig',
          spec: {
            cluster: { name: c.name, apiServerEndpoint: c.endpoint, certificateAuthority: c.certificateAuthority, cidr: c.serviceIpv4Cidr },
            kubelet: {
              config: { imageGCHighThresholdPercent: 70, ...(s.maxPods !== undefined ? { maxPods: s.maxPods } : {}), ...(s.taints.length ? { registerWithTaints: s.taints } : {}) },
              flags: [labels && `--node-labels=${labels}`, '--v=2'].filter(Boolean),
            },
          },
        })}` }]);
      case 'bottlerocket': {
        const nodeTaints: Record<string, string[]> = {};
        for (const t of s.taints) (nodeTaints[t.key] ??= []).push(`${t.value}:${t.effect}`);
        return stringifyToml({
          settings: {
            kubernetes: {
              'cluster-name': c.name, 'api-server': c.endpoint, 'cluster-certificate': c.certificateAuthority,
              ...(s.maxPods !== undefined ? { 'max-pods': s.maxPods } : {}),
              ...(Object.keys(s.labels).length ? { 'node-labels': s.labels } : {}),
              ...(s.taints.length ? { 'node-taints': nodeTaints } : {}),
            },
            'host-containers': { admin: { enabled: true } },
          },
        });
      }
    }
  }

  /** Settings the cluster decides: where a change is allowed (the user's own values are compared everywhere else). */
  const CLUSTER_FACTS: Record<NodeImageFamily, RegExp> = {
    al2: /^(cluster-name|--b64-cluster-ca|--apiserver-endpoint|--dns-cluster-ip|--use-max-pods)$/,
    windows: /^-(EKSClusterName|APIServerEndpoint|Base64ClusterCA|DNSClusterIP|ServiceCIDR)$/,
    al2023: /^spec\.cluster\./,
    bottlerocket: /^settings\.kubernetes\.(cluster-name|api-server|cluster-certificate|cluster-dns-ip)$/,
  };
  const MAX_PODS = /^(kubelet --max-pods|spec\.kubelet\.config\.maxPods|settings\.kubernetes\.max-pods)$/;

  for (const family of ['al2', 'al2023', 'bottlerocket', 'windows'] as const) {
    it(`${family}: only cluster facts and max pods change; the user's max pods and everything else are kept; rendering again changes nothing`, () => {
      fc.assert(
        fc.property(userSetup, fc.integer({ min: 4, max: 250 }), (setup, computed) => {
          const before = userData(family, setup);
          const after = render(family, before, { maxPods: computed });
          for (const change of changes(family, before, after)) {
            if (MAX_PODS.test(change.setting)) {
              assert.equal(setup.maxPods, undefined, `${family}: the user's max pods is kept`);
              assert.equal(change.to, String(computed));
            } else {
              assert.match(change.setting, CLUSTER_FACTS[family], `${family}: ${JSON.stringify(change)}`);
              if (setup.sameCluster) assert.ok(change.from === undefined, `${family}: the same cluster changes no fact it already had: ${JSON.stringify(change)}`);
            }
          }
          assert.deepEqual(changes(family, after, render(family, after, { maxPods: computed })), []);
        }),
        { numRuns: 150 },
      );
    });
  }
});
