/**
 * moto (an independent AWS implementation, Python) as a server on a free loopback port, for
 * the contract suite: `startMoto()` → `endpoint` → `reset()` between suites → `stop()`.
 * Started through moto-launcher.py, which adds the public SSM parameters of
 * fixtures/public-parameters.json to moto's own (moto's PutParameter refuses /aws/, as AWS does).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface MotoServer {
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset); the public parameters come back on first read. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const LAUNCHER = fileURLToPath(new URL('./moto-launcher.py', import.meta.url));
export const PUBLIC_PARAMETERS_FILE = fileURLToPath(new URL('./fixtures/public-parameters.json', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';
const STARTUP_MS = 30_000;

/** Fails with what to install when python3 or moto's server extras are missing. */
export function checkMotoInstalled(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import moto, flask, werkzeug; print(moto.__version__)'], { encoding: 'utf8' });
  if (probe.error) throw new Error(`contract tests need ${PYTHON} (Python 3 with moto[server] 5): ${probe.error.message}`);
  if (probe.status !== 0) {
    throw new Error(`contract tests need moto's server: \`${PYTHON} -m pip install 'moto[server]>=5'\` (import failed: ${probe.stderr.trim().split('\n').at(-1)})`);
  }
}

export async function startMoto(): Promise<MotoServer> {
  checkMotoInstalled();
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(PYTHON, [LAUNCHER, PUBLIC_PARAMETERS_FILE, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // AWS managed policies (AmazonEKSWorkerNodePolicy, …) exist in every account; moto loads them only when asked
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000); // werkzeug logs each request here
  });
  // the test runner may end the process without calling stop(): never leave moto behind
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    reset: async () => {
      const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!answer.ok) throw new Error(`moto reset answered ${answer.status}`);
    },
    stop: () => stopChild(child).finally(() => process.off('exit', killOnExit)),
  };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode} before answering:\n${stderr()}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/data.json`);
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto did not answer on ${endpoint} within ${STARTUP_MS / 1000} s:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A port nothing listens on now (the kernel's choice); moto binds it a moment later. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
