/**
 * Windows: EC2Launch runs the one `<powershell>` block. Full bootstrap puts our
 * Start-EKSBootstrap.ps1 call where the user's stood (after the user's lines when there was
 * none); when EKS merges, it adds its own after them, so ours is left out. Text around the
 * block (e.g. `<persist>`) is kept.
 */
import { bootstrapTarget, setLast } from './arguments.js';
import { chooseMaxPods, clusterDnsIp, kubeletArgumentWords, kubeletArgWords, mergeKubeletArgs, parseKubeletArgs, userMaxPods } from './kubelet-flags.js';
import { commands, replaceWindowsBootstrap, stripWindowsKubeletStarters } from './scripts.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

/** Start-EKSBootstrap.ps1 assumes this service CIDR when -ServiceCIDR is not given. */
export const WINDOWS_DEFAULT_SERVICE_CIDR = '10.100.0.0/16';

const BLOCK = /<powershell>([\s\S]*?)<\/powershell>/i;

interface PowerShellUserData {
  before: string;
  body: string;
  after: string;
}

function splitUserData(existing: string | undefined): PowerShellUserData {
  const raw = (existing ?? '').replace(/\r\n/g, '\n');
  const match = BLOCK.exec(raw);
  // no block: the text is taken for PowerShell the user meant to run
  const [before, body, after] = match
    ? [raw.slice(0, match.index), match[1]!, raw.slice(match.index + match[0].length)]
    : ['', raw, ''];
  return { before, body, after };
}

function trimmedLines(text: string): string[] {
  const lines = text.split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
  return lines;
}

/** One parameter of Start-EKSBootstrap.ps1: `-Name value`, or a switch `-Name`. */
export interface PsParameter {
  name: string;
  value?: string;
}

/**
 * PowerShell's words in command mode: `"…"` (backtick escapes, `""` for a quote), `'…'` (`''`
 * for a quote), bare words; variables are left as written, for PowerShell to expand.
 */
export function powerShellWords(text: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      let word = '';
      for (; j < text.length; j++) {
        if (text[j] === '`' && j + 1 < text.length) word += text[++j];
        else if (text[j] === '"' && text[j + 1] === '"') { word += '"'; j++; }
        else if (text[j] === '"') break;
        else word += text[j];
      }
      current = (current ?? '') + word;
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      let word = '';
      for (; j < text.length; j++) {
        if (text[j] === "'" && text[j + 1] === "'") { word += "'"; j++; }
        else if (text[j] === "'") break;
        else word += text[j];
      }
      current = (current ?? '') + word;
      i = j + 1;
    } else if (/\s/.test(c)) {
      if (current !== undefined) words.push(current);
      current = undefined;
      i++;
    } else if (c === '#' && current === undefined) {
      break;
    } else {
      current = (current ?? '') + (c === '`' && i + 1 < text.length ? text[++i] : c);
      i++;
    }
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** A value in double quotes, PowerShell-escaped; `$` left to expand, as in the user's own double-quoted values. */
function psQuote(value: string): string {
  return `"${value.replace(/[`"]/g, '`$&')}"`;
}

/** The parameters of the first Start-EKSBootstrap.ps1 call in the block (its `3>&1 …` redirections left out). */
export function readWindowsBootstrapParameters(raw: string): PsParameter[] | undefined {
  const body = BLOCK.exec(raw)?.[1] ?? raw;
  for (const command of commands(body.replace(/\r\n/g, '\n'), '`')) {
    const text = command.map((l) => l.replace(/`$/, '')).join(' ');
    if (text.trim().startsWith('#') || !/-EKSClusterName\b/i.test(text)) continue;
    const words = powerShellWords(text).filter((w) => !/^\d?>/.test(w) && !/^\d>&\d$/.test(w));
    const params: PsParameter[] = [];
    const at = words.findIndex((w) => /^-[A-Za-z]/.test(w));
    for (let i = Math.max(at, 0); i < words.length; i++) {
      const word = words[i]!;
      if (!/^-[A-Za-z]/.test(word)) continue;
      const colon = word.indexOf(':');
      if (colon > 0) params.push({ name: word.slice(1, colon), value: word.slice(colon + 1) });
      else if (i + 1 < words.length && !/^-[A-Za-z]/.test(words[i + 1]!)) params.push({ name: word.slice(1), value: words[++i]! });
      else params.push({ name: word.slice(1) });
    }
    return params;
  }
  return undefined;
}

function setParameter(params: readonly PsParameter[], name: string, value: string): PsParameter[] {
  // PowerShell parameter names are case-insensitive; the user's spelling is kept
  return setLast(params, (p) => p.name.toLowerCase() === name.toLowerCase(), (previous) => ({ name: previous?.name ?? name, value }));
}

/**
 * The user's Start-EKSBootstrap.ps1 parameters with the cluster's facts set (cluster name,
 * endpoint, CA, DNS IP, and the service CIDR when not the script's default or when the user
 * named one); every other parameter and kubelet argument kept; max-pods as for AL2.
 */
export function windowsBootstrapParameters(input: RenderUserDataInput, user: readonly PsParameter[] = []): PsParameter[] {
  const { cluster } = input;
  let params = [...user];
  params = setParameter(params, 'EKSClusterName', cluster.name);
  params = setParameter(params, 'APIServerEndpoint', cluster.endpoint);
  params = setParameter(params, 'Base64ClusterCA', cluster.certificateAuthority);
  params = setParameter(params, 'DNSClusterIP', clusterDnsIp(cluster.serviceIpv4Cidr));
  // without it, DNS in pods fails on a cluster with a custom service CIDR
  if (cluster.serviceIpv4Cidr !== WINDOWS_DEFAULT_SERVICE_CIDR || params.some((p) => p.name.toLowerCase() === 'servicecidr')) {
    params = setParameter(params, 'ServiceCIDR', cluster.serviceIpv4Cidr);
  }
  const theirs = params.filter((p) => p.name.toLowerCase() === 'kubeletextraargs').flatMap((p) => kubeletArgumentWords(p.value ?? ''));
  const kubelet = parseKubeletArgs(theirs);
  const maxPods = chooseMaxPods({ override: input.maxPodsOverride, userIsOurs: input.existingMaxPodsIsOurs, user: userMaxPods(kubelet), computed: input.maxPods });
  const extra = kubeletArgWords(mergeKubeletArgs(kubelet, { maxPods, labels: input.labels, taints: input.taints }));
  if (extra.length) params = setParameter(params, 'KubeletExtraArgs', extra.join(' '));
  return params;
}

export function windowsBootstrapLines(input: RenderUserDataInput, user?: readonly PsParameter[]): string[] {
  const params = windowsBootstrapParameters(input, user).map((p) => (p.value === undefined ? `-${p.name}` : `-${p.name} ${psQuote(p.value)}`));
  return [
    '[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"',
    `& $EKSBootstrapScriptFile ${params.join(' ')} 3>&1 4>&1 5>&1 6>&1`,
  ];
}

/**
 * Full bootstrap replaces the user's Start-EKSBootstrap.ps1 where it stands in the block (the
 * variables before it and the lines after it keep their place), or appends ours after the
 * user's lines when there is none; when EKS merges, every kubelet start is taken out.
 */
export function renderWindows(input: RenderUserDataInput): string {
  const { before, body: raw, after } = splitUserData(input.existing);
  const stripped = trimmedLines(stripWindowsKubeletStarters(raw));
  let body = stripped;
  if (input.mode === 'full-bootstrap') {
    const ours = windowsBootstrapLines(input, input.existing ? readWindowsBootstrapParameters(input.existing) : undefined);
    const inPlace = replaceWindowsBootstrap(raw, ours.join('\n'));
    body = inPlace === undefined ? [...stripped, ...ours] : trimmedLines(inPlace);
  }
  if (body.length === 0 && before.trim() === '' && after.trim() === '') return '';
  return `${before}${['<powershell>', ...body, '</powershell>'].join('\n')}${after === '' ? '\n' : after}`;
}

export function readWindowsBootstrap(raw: string): BootstrapTarget | undefined {
  const params = readWindowsBootstrapParameters(raw);
  if (!params) return undefined;
  const get = (name: string) => params.filter((p) => p.name.toLowerCase() === name.toLowerCase()).at(-1)?.value;
  return bootstrapTarget({ clusterName: get('EKSClusterName'), apiServerEndpoint: get('APIServerEndpoint'), certificateAuthority: get('Base64ClusterCA') });
}
