import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Runs the real `kubectl` against a sandbox API server, as the yardstick our drain engine is
 * measured against. Each run gets its own temporary HOME and --cache-dir, so nothing is left
 * in ~/.kube, and is killed if it outlives its timeout.
 *
 * /usr/bin/kubectl may be the Google Cloud SDK's dispatcher: it first asks the server for
 * /version (User-Agent `kubectl-dispatcher/…`) and then runs the kubectl release matching
 * the server's minor version (kubectl.1.31 for the sandbox's default 1.31).
 */

export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlRun {
  /** null when the process was killed (see timedOut) */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** real milliseconds from spawn to exit */
  wallMs: number;
  timedOut: boolean;
  /** the arguments kubectl ran with, for messages */
  args: string[];
}

export interface KubectlOptions {
  kubeconfig: string;
  /** real milliseconds before the process is killed */
  timeoutMs: number;
  /** default /usr/bin/kubectl */
  binary?: string;
}

export interface KubectlDrainOptions extends KubectlOptions {
  node: string;
  /** after the default flags, e.g. ['--disable-eviction'] or ['--dry-run=server'] */
  extraArgs?: string[];
}

/**
 * What `kubectl drain` needs for a node populated by populateNodeForDrain: DaemonSet pods
 * cannot be evicted (their controller would put them straight back), emptyDir data is lost
 * with the pod, and a bare pod has no controller to replace it. Mirror pods need no flag:
 * drain skips them by itself.
 */
export const DRAIN_FLAGS: readonly string[] = ['--ignore-daemonsets', '--delete-emptydir-data', '--force'];

const availability = new Map<string, Promise<boolean>>();

/** Whether kubectl is installed and runs; asked once per binary. */
export function hasKubectl(binary = KUBECTL): Promise<boolean> {
  let found = availability.get(binary);
  if (!found) {
    found = access(binary, constants.X_OK).then(
      () => runProcess(binary, ['version', '--client', '-o', 'json'], { timeoutMs: 30_000 }).then((run) => run.exitCode === 0),
      () => false,
    );
    availability.set(binary, found);
  }
  return found;
}

/** `kubectl --kubeconfig … drain <node> --ignore-daemonsets --delete-emptydir-data --force …` */
export function kubectlDrain(options: KubectlDrainOptions): Promise<KubectlRun> {
  return kubectl(['drain', options.node, ...DRAIN_FLAGS, ...(options.extraArgs ?? [])], options);
}

/** Any kubectl command against the kubeconfig, e.g. kubectl(['get', 'pods', '-A'], …). */
export async function kubectl(args: readonly string[], options: KubectlOptions): Promise<KubectlRun> {
  const home = await mkdtemp(join(tmpdir(), 'sim-kubectl-'));
  try {
    const fullArgs = ['--kubeconfig', options.kubeconfig, '--cache-dir', join(home, 'cache'), ...args];
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env['KUBECONFIG'];
    return await runProcess(options.binary ?? KUBECTL, fullArgs, { timeoutMs: options.timeoutMs, env });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function runProcess(binary: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<KubectlRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // its own process group, so a timeout also ends whatever kubectl started (the dispatcher's kubectl)
    const child = spawn(binary, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? null : code, stdout, stderr, wallMs: Math.round(performance.now() - started), timedOut, args });
    });
  });
}
