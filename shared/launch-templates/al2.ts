/**
 * Amazon Linux 2: cloud-init runs the MIME parts in order; the node joins when a
 * text/x-shellscript part runs /etc/eks/bootstrap.sh. Ours is the last part, so the
 * user's parts (packages, sysctls, containerd config) run before the kubelet starts.
 */
import { bootstrapTarget, setLast } from './arguments.js';
import { chooseMaxPods, clusterDnsIp, kubeletArgumentWords, kubeletArgWords, mergeKubeletArgs, parseKubeletArgs, userMaxPods } from './kubelet-flags.js';
import { type MimePart, userDataParts, writeMimeMultipart } from './mime.js';
import { commands, isEmptyScript, replaceLinuxBootstrap, shellQuote, shellWords, stripLinuxKubeletStarters } from './scripts.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

const SHELL_SCRIPT = 'text/x-shellscript; charset="us-ascii"';

function isShellPart(part: MimePart): boolean {
  return /^text\/x-shellscript\b/i.test(part.contentType) || part.body.startsWith('#!');
}

/** One argument of bootstrap.sh: the cluster name (no flag), or `--flag value` / `--flag=value`. */
export interface BootstrapArg {
  flag?: string;
  value: string;
}

/**
 * The arguments of the first /etc/eks/bootstrap.sh call in the parts, split as the shell splits
 * them. Every bootstrap.sh option takes a value (its getopt loop shifts two).
 */
export function readAl2BootstrapArgs(parts: readonly MimePart[]): BootstrapArg[] | undefined {
  for (const part of parts.filter(isShellPart)) {
    for (const command of commands(part.body, '\\')) {
      const text = command.join('\n').replace(/\\\r?\n/g, ' ');
      if (text.trim().startsWith('#') || !text.includes('/etc/eks/bootstrap.sh')) continue;
      const words = shellWords(text);
      const at = words.findIndex((w) => w.endsWith('/etc/eks/bootstrap.sh'));
      if (at < 0) continue;
      const args: BootstrapArg[] = [];
      const rest = words.slice(at + 1);
      for (let i = 0; i < rest.length; i++) {
        const word = rest[i]!;
        if (!word.startsWith('--')) { args.push({ value: word }); continue; }
        const eq = word.indexOf('=');
        args.push(eq > 0 ? { flag: word.slice(0, eq), value: word.slice(eq + 1) } : { flag: word, value: rest[++i] ?? '' });
      }
      return args;
    }
  }
  return undefined;
}

function setFlag(args: readonly BootstrapArg[], flag: string, value: string): BootstrapArg[] {
  return setLast(args, (a) => a.flag === flag, () => ({ flag, value }));
}

/**
 * The user's bootstrap.sh arguments with the cluster's facts set: the cluster name, CA,
 * endpoint and DNS IP take the cluster's values (unchanged where they already agree); every
 * other argument, kubelet arguments included, is kept as the user wrote it; max-pods is the
 * operator's override, else the user's, else the computed one.
 */
export function al2BootstrapArgs(input: RenderUserDataInput, user: readonly BootstrapArg[] = []): BootstrapArg[] {
  const { cluster } = input;
  let args = [...user];
  const name = args.findIndex((a) => a.flag === undefined);
  args = name < 0 ? [{ value: cluster.name }, ...args] : args.map((a, i) => (i === name ? { value: cluster.name } : a));
  args = setFlag(args, '--b64-cluster-ca', cluster.certificateAuthority);
  args = setFlag(args, '--apiserver-endpoint', cluster.endpoint);
  args = setFlag(args, '--dns-cluster-ip', clusterDnsIp(cluster.serviceIpv4Cidr));
  const kubelet = parseKubeletArgs(args.filter((a) => a.flag === '--kubelet-extra-args').flatMap((a) => kubeletArgumentWords(a.value)));
  const maxPods = chooseMaxPods({ override: input.maxPodsOverride, userIsOurs: input.existingMaxPodsIsOurs, user: userMaxPods(kubelet), computed: input.maxPods });
  const extra = kubeletArgWords(mergeKubeletArgs(kubelet, { maxPods, labels: input.labels, taints: input.taints }));
  if (extra.length) args = setFlag(args, '--kubelet-extra-args', extra.join(' '));
  // bootstrap.sh would otherwise compute max pods itself and override ours
  if (maxPods !== undefined) args = setFlag(args, '--use-max-pods', 'false');
  return args;
}

/** The /etc/eks/bootstrap.sh command, one argument a line. */
export function al2BootstrapCommand(input: RenderUserDataInput, user?: readonly BootstrapArg[]): string {
  const lines = al2BootstrapArgs(input, user).map((a) => (a.flag ? `${a.flag} ${shellQuote(a.value)}` : shellQuote(a.value)));
  return `/etc/eks/bootstrap.sh ${lines.join(' \\\n  ')}`;
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

/**
 * Full bootstrap: the user's bootstrap.sh command is replaced where it stands, in its part (its
 * variables and the commands around it kept); without one, ours is a last part of its own, so
 * the user's parts (packages, sysctls, containerd config) run before the kubelet starts.
 */
export function renderAl2(input: RenderUserDataInput): string {
  const existing = userDataParts(input.existing);
  if (input.mode === 'eks-merges') {
    const userParts = withoutLinuxBootstrap(existing);
    return userParts.length ? writeMimeMultipart(userParts) : '';
  }
  const command = al2BootstrapCommand(input, readAl2BootstrapArgs(existing));
  const at = existing.findIndex((part) => isShellPart(part) && replaceLinuxBootstrap(part.body, command) !== undefined);
  if (at < 0) return writeMimeMultipart([...withoutLinuxBootstrap(existing), { contentType: SHELL_SCRIPT, body: ['#!/bin/bash', 'set -ex', command, ''].join('\n') }]);
  const parts = existing.map((part, i) => (i === at ? { ...part, body: replaceLinuxBootstrap(part.body, command)! } : part));
  // a kubelet start in any other part would race ours
  return writeMimeMultipart([...withoutLinuxBootstrap(parts.slice(0, at)), parts[at]!, ...withoutLinuxBootstrap(parts.slice(at + 1))]);
}

/** The cluster a /etc/eks/bootstrap.sh call in the parts would join, if there is one. */
export function readAl2Bootstrap(parts: readonly MimePart[]): BootstrapTarget | undefined {
  const args = readAl2BootstrapArgs(parts);
  if (!args) return undefined;
  const last = (flag: string) => args.filter((a) => a.flag === flag).at(-1)?.value;
  return bootstrapTarget({ clusterName: args.find((a) => a.flag === undefined)?.value, apiServerEndpoint: last('--apiserver-endpoint'), certificateAuthority: last('--b64-cluster-ca') });
}
