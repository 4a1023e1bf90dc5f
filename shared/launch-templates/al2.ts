/**
 * Amazon Linux 2: cloud-init runs the MIME parts in order; the node joins when a
 * text/x-shellscript part runs /etc/eks/bootstrap.sh. Ours is the last part, so the
 * user's parts (packages, sysctls, containerd config) run before the kubelet starts.
 */
import { clusterDnsIp, kubeletExtraArgs } from './kubelet-flags.js';
import { type MimePart, userDataParts, writeMimeMultipart } from './mime.js';
import { commands, isEmptyScript, shellWords, stripLinuxKubeletStarters } from './scripts.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

const SHELL_SCRIPT = 'text/x-shellscript; charset="us-ascii"';

function isShellPart(part: MimePart): boolean {
  return /^text\/x-shellscript\b/i.test(part.contentType) || part.body.startsWith('#!');
}

/** Shell-quotes a word only when it needs it; our values never hold a single quote. */
function quote(word: string): string {
  return /^[A-Za-z0-9_\-.:/=+@,%]+$/.test(word) ? word : `'${word}'`;
}

export function al2BootstrapScript(input: RenderUserDataInput): string {
  const { cluster } = input;
  const extra = kubeletExtraArgs(input);
  const args = [
    cluster.name,
    `--b64-cluster-ca ${quote(cluster.certificateAuthority)}`,
    `--apiserver-endpoint ${quote(cluster.endpoint)}`,
    `--dns-cluster-ip ${clusterDnsIp(cluster.serviceIpv4Cidr)}`,
    ...(extra.length ? [`--kubelet-extra-args '${extra.join(' ')}'`] : []),
    // bootstrap.sh would otherwise compute max pods itself and override ours
    ...(input.maxPods !== undefined ? ['--use-max-pods false'] : []),
  ];
  return ['#!/bin/bash', 'set -ex', `/etc/eks/bootstrap.sh ${args.join(' \\\n  ')}`, ''].join('\n');
}

/**
 * The user's parts without any bootstrap: shell parts lose their bootstrap.sh / kubelet
 * commands, and a part left with nothing else to do is dropped (it was a bootstrap part).
 */
export function withoutLinuxBootstrap(parts: readonly MimePart[]): MimePart[] {
  return parts.flatMap((part) => {
    if (!isShellPart(part)) return [part];
    const body = stripLinuxKubeletStarters(part.body);
    if (body === part.body) return [part];
    return isEmptyScript(body) ? [] : [{ ...part, body }];
  });
}

export function renderAl2(input: RenderUserDataInput): string {
  const userParts = withoutLinuxBootstrap(userDataParts(input.existing));
  if (input.mode === 'eks-merges') return userParts.length ? writeMimeMultipart(userParts) : '';
  return writeMimeMultipart([...userParts, { contentType: SHELL_SCRIPT, body: al2BootstrapScript(input) }]);
}

/** The cluster a /etc/eks/bootstrap.sh call in the parts would join, if there is one. */
export function readAl2Bootstrap(parts: readonly MimePart[]): BootstrapTarget | undefined {
  for (const part of parts.filter(isShellPart)) {
    for (const command of commands(part.body, '\\')) {
      const text = command.join('\n').replace(/\\\r?\n/g, ' ');
      if (text.trim().startsWith('#') || !text.includes('/etc/eks/bootstrap.sh')) continue;
      const words = shellWords(text);
      const args = words.slice(words.findIndex((w) => w.endsWith('/etc/eks/bootstrap.sh')) + 1);
      const target: BootstrapTarget = {};
      for (let i = 0; i < args.length; i++) {
        const [flag, inline] = args[i]!.split(/=(.*)/s);
        const value = () => inline ?? args[++i];
        if (flag === '--apiserver-endpoint') target.apiServerEndpoint = value();
        else if (flag === '--b64-cluster-ca') target.certificateAuthority = value();
        else if (flag!.startsWith('--')) value();
        else if (target.clusterName === undefined) target.clusterName = flag;
      }
      return target;
    }
  }
  return undefined;
}
