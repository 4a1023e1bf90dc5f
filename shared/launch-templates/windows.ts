/**
 * Windows: EC2Launch runs the one `<powershell>` block. Full bootstrap appends our
 * Start-EKSBootstrap.ps1 call after the user's lines; when EKS merges, it adds its own
 * after them, so ours is left out. Text around the block (e.g. `<persist>`) is kept.
 */
import { clusterDnsIp, kubeletExtraArgs } from './kubelet-flags.js';
import { commands, stripWindowsKubeletStarters } from './scripts.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

/** Start-EKSBootstrap.ps1 assumes this service CIDR when -ServiceCIDR is not given. */
export const WINDOWS_DEFAULT_SERVICE_CIDR = '10.100.0.0/16';

const BLOCK = /<powershell>([\s\S]*?)<\/powershell>/i;

interface PowerShellUserData {
  before: string;
  lines: string[];
  after: string;
}

function splitUserData(existing: string | undefined): PowerShellUserData {
  const raw = (existing ?? '').replace(/\r\n/g, '\n');
  const match = BLOCK.exec(raw);
  // no block: the text is taken for PowerShell the user meant to run
  const [before, body, after] = match
    ? [raw.slice(0, match.index), match[1]!, raw.slice(match.index + match[0].length)]
    : ['', raw, ''];
  const lines = stripWindowsKubeletStarters(body).split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
  return { before, lines, after };
}

export function windowsBootstrapLines(input: RenderUserDataInput): string[] {
  const { cluster } = input;
  const extra = kubeletExtraArgs(input);
  const params = [
    `-EKSClusterName "${cluster.name}"`,
    `-APIServerEndpoint "${cluster.endpoint}"`,
    `-Base64ClusterCA "${cluster.certificateAuthority}"`,
    `-DNSClusterIP "${clusterDnsIp(cluster.serviceIpv4Cidr)}"`,
    // without it, DNS in pods fails on a cluster with a custom service CIDR
    ...(cluster.serviceIpv4Cidr !== WINDOWS_DEFAULT_SERVICE_CIDR ? [`-ServiceCIDR "${cluster.serviceIpv4Cidr}"`] : []),
    ...(extra.length ? [`-KubeletExtraArgs "${extra.join(' ')}"`] : []),
  ];
  return [
    '[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"',
    `& $EKSBootstrapScriptFile ${params.join(' ')} 3>&1 4>&1 5>&1 6>&1`,
  ];
}

export function renderWindows(input: RenderUserDataInput): string {
  const { before, lines, after } = splitUserData(input.existing);
  const body = input.mode === 'eks-merges' ? lines : [...lines, ...windowsBootstrapLines(input)];
  if (body.length === 0 && before.trim() === '' && after.trim() === '') return '';
  return `${before}${['<powershell>', ...body, '</powershell>'].join('\n')}${after === '' ? '\n' : after}`;
}

function psParameter(command: string, name: string): string | undefined {
  const m = new RegExp(`-${name}\\s+(?:"([^"]*)"|'([^']*)'|(\\S+))`, 'i').exec(command);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

export function readWindowsBootstrap(raw: string): BootstrapTarget | undefined {
  const body = BLOCK.exec(raw)?.[1] ?? raw;
  for (const command of commands(body.replace(/\r\n/g, '\n'), '`')) {
    const text = command.map((l) => l.replace(/`$/, '')).join(' ');
    if (text.trim().startsWith('#') || !/-EKSClusterName\b/i.test(text)) continue;
    const target: BootstrapTarget = {};
    const name = psParameter(text, 'EKSClusterName');
    const endpoint = psParameter(text, 'APIServerEndpoint');
    const ca = psParameter(text, 'Base64ClusterCA');
    if (name !== undefined) target.clusterName = name;
    if (endpoint !== undefined) target.apiServerEndpoint = endpoint;
    if (ca !== undefined) target.certificateAuthority = ca;
    return target;
  }
  return undefined;
}
