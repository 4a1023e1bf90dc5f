/**
 * How `npx eks-node-lifecycle --sandbox …` reaches a running `npm run sandbox`: the sandbox
 * writes its local endpoint and a token to `.sandbox/endpoint.json` (mode 0600); the CLI reads
 * it, checks the sandbox answers, and sends the command text. Node built-ins only: this is on
 * the CLI's runtime path, the simulated world is not.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SandboxEndpoint {
  /** http://127.0.0.1:<port> */
  url: string;
  token: string;
  pid: number;
  started: string;
  speed: number;
}

/** What the running sandbox answers a command with: the service's reply and the CLI's exit code. */
export interface SandboxAnswer {
  text: string;
  ok: boolean;
  exitCode: number;
}

/** `.sandbox/` of the project (EKS_NODE_LIFECYCLE_SANDBOX_DIR overrides it), whatever the working directory. */
export function sandboxDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['EKS_NODE_LIFECYCLE_SANDBOX_DIR'] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.sandbox');
}

export function endpointFile(dir = sandboxDir()): string {
  return join(dir, 'endpoint.json');
}

export function readEndpoint(dir = sandboxDir()): SandboxEndpoint | undefined {
  try {
    const parsed = JSON.parse(readFileSync(endpointFile(dir), 'utf8')) as Partial<SandboxEndpoint>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string') return parsed as SandboxEndpoint;
  } catch {
    // missing or unreadable: no running sandbox
  }
  return undefined;
}

/** One request to the running sandbox; rejects when nothing answers within `timeoutMs`. */
function call(endpoint: SandboxEndpoint, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(new URL(path, endpoint.url), { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export type RunningSandbox = { state: 'running'; endpoint: SandboxEndpoint } | { state: 'none' } | { state: 'stale'; reason: string };

/** Whether a sandbox runs: its endpoint file, its process, and an answer to `/health`. */
export async function findRunningSandbox(dir = sandboxDir()): Promise<RunningSandbox> {
  const endpoint = readEndpoint(dir);
  if (!endpoint) return { state: 'none' };
  try {
    if (endpoint.pid) process.kill(endpoint.pid, 0);
  } catch (error) {
    // EPERM: the process lives, as another user's; /health decides
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return { state: 'stale', reason: `its process ${endpoint.pid} is gone` };
  }
  try {
    const health = await call(endpoint, '/health', {}, 2000);
    if (health.status !== 200) return { state: 'stale', reason: `${endpoint.url} answered HTTP ${health.status}` };
  } catch (error) {
    return { state: 'stale', reason: `${endpoint.url}: ${(error as Error).message}` };
  }
  return { state: 'running', endpoint };
}

/** Sends the command text to the running sandbox, which runs it as the sandbox's CLI principal. */
export async function askRunningSandbox(endpoint: SandboxEndpoint, text: string, output: 'text' | 'wide' | 'json' = 'text'): Promise<SandboxAnswer> {
  // a rollout's reply waits for its first step, in virtual time: generous at any speed
  const out = await call(endpoint, '/command', { text, output }, 120_000);
  if (out.status !== 200) return { text: `the running sandbox refused the command (HTTP ${out.status}): ${out.body.slice(0, 300)}`, ok: false, exitCode: 1 };
  return JSON.parse(out.body) as SandboxAnswer;
}

/**
 * `--sandbox`: the command against the running sandbox when there is one (its exit code), or
 * undefined after one line on stderr saying why the caller runs it in a one-shot world instead.
 */
export async function runInRunningSandbox(
  text: string,
  print: (line: string) => void,
  warn: (line: string) => void,
  dir = sandboxDir(),
  /** `-o`: the running sandbox renders the answer as the CLI would */
  output: 'text' | 'wide' | 'json' = 'text',
): Promise<number | undefined> {
  const found = await findRunningSandbox(dir);
  if (found.state === 'running') {
    const answer = await askRunningSandbox(found.endpoint, text, output);
    print(answer.text);
    return answer.exitCode;
  }
  if (found.state === 'none') warn('no running sandbox (start one with `npm run sandbox`): running this command in a one-shot sandbox world');
  else warn(`stale ${endpointFile(dir)} (${found.reason}): running this command in a one-shot sandbox world`);
  return undefined;
}
