import { setLast } from './arguments.js';
import type { NodeTaint } from './types.js';

/** The cluster DNS service IP EKS assigns: .10 of the service CIDR. */
export function clusterDnsIp(serviceIpv4Cidr: string): string {
  const [address = ''] = serviceIpv4Cidr.split('/');
  const octets = address.split('.');
  if (octets.length !== 4) throw new TypeError(`not an IPv4 CIDR: ${serviceIpv4Cidr}`);
  octets[3] = '10';
  return octets.join('.');
}

export function registerWithTaintsFlag(taints: readonly NodeTaint[] | undefined): string | undefined {
  return taints?.length
    ? `--register-with-taints=${taints.map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`).join(',')}`
    : undefined;
}

/**
 * The words of a kubelet argument string as systemd splits `$KUBELET_EXTRA_ARGS` (bootstrap.sh
 * and Start-EKSBootstrap.ps1 hand it to the kubelet's service): whitespace separates, single
 * and double quotes group, a backslash escapes; nothing else is special (`<` in
 * `--eviction-hard=memory.available<5%` is text, not a redirection).
 */
export function kubeletArgumentWords(text: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i]!;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      current ??= '';
    } else if (/\s/.test(c)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + (c === '\\' && i + 1 < text.length ? text[++i]! : c);
    }
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** One kubelet flag as the user wrote it: `--name=value`, `--name value`, or a bare `--name`. */
export interface KubeletArg {
  name: string;
  value?: string;
}

/** kubelet's command line (pflag): `--name=value`, or `--name value` when the next word is not a flag. */
export function parseKubeletArgs(words: readonly string[]): KubeletArg[] {
  const args: KubeletArg[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.indexOf('=');
    if (word.startsWith('-') && eq > 0) args.push({ name: word.slice(0, eq), value: word.slice(eq + 1) });
    else if (word.startsWith('-') && i + 1 < words.length && !words[i + 1]!.startsWith('-')) args.push({ name: word, value: words[++i]! });
    else args.push({ name: word });
  }
  return args;
}

export function kubeletArgWords(args: readonly KubeletArg[]): string[] {
  return args.map((a) => (a.value === undefined ? a.name : `${a.name}=${a.value}`));
}

/** The user's explicit `--max-pods` (the last one wins, as in pflag), if any. */
export function userMaxPods(args: readonly KubeletArg[]): number | undefined {
  const raw = args.filter((a) => a.name === '--max-pods').at(-1)?.value;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The max-pods a new version sets: the operator's override (the node group's `max-pods` tag),
 * else what the user's bootstrap already says, else the one computed for the cluster. A value
 * this service wrote itself (the source version is ours) is recomputed, so that a CNI setting
 * turned on since (prefix delegation) reaches the next nodes.
 */
export function chooseMaxPods(options: { override?: number | undefined; user?: number | undefined; computed?: number | undefined; userIsOurs?: boolean | undefined }): number | undefined {
  if (options.override !== undefined) return options.override;
  return options.userIsOurs ? options.computed ?? options.user : options.user ?? options.computed;
}

function setArg(args: readonly KubeletArg[], name: string, value: string): KubeletArg[] {
  return setLast(args, (a) => a.name === name, () => ({ name, value }));
}

/**
 * The user's kubelet arguments with ours set: every flag of theirs kept in its place;
 * `--max-pods` set when we have one; `--node-labels` / `--register-with-taints` gain what the
 * caller passes (same key: the caller's wins).
 */
export function mergeKubeletArgs(user: readonly KubeletArg[], ours: { maxPods?: number; labels?: Record<string, string>; taints?: readonly NodeTaint[] }): KubeletArg[] {
  let args = [...user];
  if (ours.maxPods !== undefined) args = setArg(args, '--max-pods', String(ours.maxPods));
  if (ours.labels && Object.keys(ours.labels).length) {
    const theirs = args.filter((a) => a.name === '--node-labels').flatMap((a) => (a.value ?? '').split(',').filter(Boolean));
    const merged = new Map(theirs.map((pair) => [pair.split('=')[0]!, pair] as const));
    for (const [k, v] of Object.entries(ours.labels)) merged.set(k, `${k}=${v}`);
    args = setArg(args, '--node-labels', [...merged.values()].join(','));
  }
  if (ours.taints?.length) {
    const theirs = args.filter((a) => a.name === '--register-with-taints').flatMap((a) => (a.value ?? '').split(',').filter(Boolean));
    const flag = registerWithTaintsFlag(ours.taints)!.slice('--register-with-taints='.length).split(',');
    const identity = (spec: string) => `${spec.split('=')[0]!.split(':')[0]}:${spec.split(':').at(-1)}`;
    const merged = new Map(theirs.map((spec) => [identity(spec), spec] as const));
    for (const spec of flag) merged.set(identity(spec), spec);
    args = setArg(args, '--register-with-taints', [...merged.values()].join(','));
  }
  return args;
}
