/**
 * The persistent sandbox behind `npm run sandbox`: one world that keeps running in virtual time
 * at `speed` virtual seconds per real second, serving its Kubernetes API (kubeconfig kept
 * fresh) and the service's CLI on a local endpoint (`.sandbox/endpoint.json`,
 * scripts/sandbox-connection.ts). A command sent there goes where the CLI's commands go in
 * AWS: signed by the sandbox operator's credentials, to the chatApi function URL, so the
 * service's authorization, audit and rate limits are the real ones.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as realSleep } from 'node:timers/promises';
import { SimFunctionUrls, type World } from '@eks-node-lifecycle/sandbox';
import { sandboxCredentials, startCliSandbox } from './cli-sandbox.js';
import { exitCodeOf, type OutputFormat, renderAnswer, sendCommand } from './cli-send.js';
import { endpointFile, type SandboxAnswer, type SandboxEndpoint } from './sandbox-connection.js';

export interface PersistentSandboxOptions {
  /** virtual seconds per real second */
  speed: number;
  /** where endpoint.json and kubeconfig go (the project's .sandbox/) */
  dir: string;
  /** real milliseconds between clock steps; default 50 */
  tickMs?: number;
}

export interface PersistentSandbox {
  world: World;
  endpoint: SandboxEndpoint;
  kubeconfig: string;
  /** the chat messages the service posted, as the channel shows them, oldest first */
  posted: () => { text: string; threadTs?: string }[];
  /** changes the pace from now on (virtual seconds per real second) */
  setSpeed: (speed: number) => void;
  /** stops the clock, the endpoint and the world (which throws on any IAM denial) */
  stop: () => Promise<void>;
}

/** A fresh kubeconfig's token is valid 15 virtual minutes (EKS); it is re-minted every 5. */
const KUBECONFIG_REFRESH_MS = 5 * 60_000;

export async function startPersistentSandbox(options: PersistentSandboxOptions): Promise<PersistentSandbox> {
  const checked = (speed: number) => {
    if (!(speed > 0)) throw new Error(`--speed must be a positive number of virtual seconds per real second, got ${speed}`);
    return speed;
  };
  let speed = checked(options.speed);
  mkdirSync(options.dir, { recursive: true });
  const sandbox = await startCliSandbox({ workDir: options.dir });
  const { world } = sandbox;
  const urls = new SimFunctionUrls(world);
  const caller = sandboxCredentials(world.model.accountId, 'sandbox-operator');
  urls.addCaller(caller);

  const kubeconfig = join(options.dir, 'kubeconfig');
  let mintedAt = Number.NEGATIVE_INFINITY;
  const refreshKubeconfig = async () => {
    if (world.clock.now() - mintedAt < KUBECONFIG_REFRESH_MS) return;
    mintedAt = world.clock.now();
    const written = await world.writeKubeconfig('prod');
    // replaced in one step: a kubectl reading it never sees half a file
    copyFileSync(written, `${kubeconfig}.next`);
    renameSync(`${kubeconfig}.next`, kubeconfig);
  };
  await refreshKubeconfig();

  // 1. the clock: advanced by the real time each step took, times the speed; a real pause
  // between steps lets the endpoints' I/O in. The world counts as settling throughout, so an
  // invocation started by a command in a pause waits on the clock as it would in settle().
  let stopped = false;
  let failure: unknown;
  const release = world.clock.holdSettling();
  const tickMs = options.tickMs ?? 50;
  const pacing = (async () => {
    let last = performance.now();
    while (!stopped) {
      await realSleep(tickMs);
      const now = performance.now();
      await world.run((now - last) * speed);
      last = now;
      await refreshKubeconfig();
    }
  })().catch((error: unknown) => {
    failure = error;
  });

  // 2. the endpoint: POST /health, POST /command {text} with the token as a bearer
  const token = randomBytes(24).toString('base64url');
  const server = createServer((req, res) => {
    void answer(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `${error.name}: ${error.message}` }));
      },
    );
  });
  async function answer(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const want = Buffer.from(token);
    if (req.method !== 'POST' || given.length !== want.length || !timingSafeEqual(given, want)) return { status: 403, body: { error: 'Forbidden' } };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === '/health') return { status: 200, body: { ok: true, virtualTime: world.clock.iso(), failure: failure ? String(failure) : undefined } };
    if (req.url !== '/command') return { status: 404, body: { error: 'Not Found' } };
    if (failure) return { status: 503, body: { error: `the sandbox's clock stopped: ${String(failure)}` } };
    const { text, output } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown; output?: unknown };
    if (typeof text !== 'string') return { status: 400, body: { error: 'body must be {"text": "<command>"}' } };
    const format: OutputFormat = output === 'json' || output === 'wide' ? output : 'text';
    // time passes while the service answers, at the sandbox's pace
    const result = await sendCommand(text, { url: urls.url('chatApi'), region: world.model.region, credentials: caller, signingDate: world.clock.date(), send: urls.send, output: format === 'json' ? 'json' : 'text' });
    // rendered as the CLI renders it, at the world's time
    const reply: SandboxAnswer = { text: renderAnswer(result, format), ok: result.ok, exitCode: exitCodeOf(result) };
    return { status: 200, body: reply };
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint: SandboxEndpoint = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token, pid: process.pid, started: new Date().toISOString(), speed: options.speed };
  const file = endpointFile(options.dir);
  writeFileSync(`${file}.next`, JSON.stringify(endpoint, null, 2), { mode: 0o600 });
  chmodSync(`${file}.next`, 0o600);
  renameSync(`${file}.next`, file);

  return {
    world,
    endpoint,
    kubeconfig,
    setSpeed: (next) => {
      speed = checked(next);
      endpoint.speed = speed;
    },
    posted: () => sandbox.receiver.messages.filter((m) => m.kind !== 'response').map((m) => ({ text: m.text, ...(m.threadTs ? { threadTs: m.threadTs } : {}) })),
    stop: async () => {
      // 1. no new command, no kubeconfig pointing at a closed API; 2. the clock; 3. the world (IAM denials throw here)
      rmSync(file, { force: true });
      rmSync(kubeconfig, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      stopped = true;
      await pacing;
      release();
      await sandbox.stop();
      if (failure) throw failure;
    },
  };
}
