import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';

/**
 * `serverless package --stage ci --region eu-west-1 --param=managedClusters=*`, once for every test file that needs it.
 *
 * Packaging takes half a minute and several test files read its output, possibly in parallel
 * processes (`--test-concurrency`). The output is cached under node_modules/.cache, keyed by a
 * hash of everything that goes into it (serverless.yml, workflows, the sources, the lock
 * file): a file finds the package another one made, and two processes never package at the
 * same time (the serverless-esbuild work dir is shared) — the first takes a lock, the others
 * wait for its result.
 */
export interface PackagedService {
  /** the directory `--package` wrote: one zip per function and the CloudFormation templates */
  dir: string;
  template: CloudFormationTemplate;
}

export interface CloudFormationTemplate {
  Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }>;
  [key: string]: unknown;
}

export const PACKAGE_STAGE = 'ci';
export const PACKAGE_REGION = 'eu-west-1';
/** managedClusters has no default: the package names it, as every deploy must */
export const PACKAGE_PARAMS: { managedClusters: string } = { managedClusters: '*' };

/** Params that put the Kubernetes-facing functions in a VPC (scripts/deploy/vpc.cjs), ids of the right form */
export const VPC_PARAMS = {
  vpcSubnetIds: 'subnet-0a1b2c3d4e5f60718,subnet-0a1b2c3d4e5f60729',
  vpcSecurityGroupIds: 'sg-0f1e2d3c4b5a69788',
} as const;

const run = promisify(execFile);
const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'enl-package');
const INPUTS = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json', 'functions', 'shared', 'workflows', 'scripts/deploy'];
const LOCK_STALE_MS = 15 * 60_000;
/** held by whoever runs `serverless package` in the project (the cached package and every variant) */
const PACKAGING_LOCK = join(CACHE, 'packaging.lock');

let packaged: Promise<PackagedService> | undefined;

export function packageService(): Promise<PackagedService> {
  packaged ??= packageOnce();
  return packaged;
}

async function packageOnce(): Promise<PackagedService> {
  const dir = join(CACHE, inputsHash());
  const lock = `${dir}.lock`;
  mkdirSync(CACHE, { recursive: true });
  for (;;) {
    if (existsSync(join(dir, 'cloudformation-template-update-stack.json'))) return read(dir);
    if (tryLock(lock)) break;
    await sleep(1000);
  }
  try {
    pruneOthers(dir);
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    await whilePackaging(() => runPackage(PACKAGE_PARAMS, work));
    // complete or absent: a reader never sees half a package
    renameSync(work, dir);
    return read(dir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `serverless package` offline, with these params, into `out`. */
function runPackage(params: Record<string, string>, out: string) {
  return run(join(PROJECT_ROOT, 'node_modules', '.bin', 'serverless'), ['package', '--stage', PACKAGE_STAGE, '--region', PACKAGE_REGION, ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`), '--package', out], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'AKIDOFFLINE',
      AWS_SECRET_ACCESS_KEY: 'offline',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * The package with other params (beside PACKAGE_PARAMS), not cached: what a deploy with
 * `--param=…` would ship, or the framework's error when the params are refused.
 */
export async function packageWithParams(params: Record<string, string>): Promise<{ ok: true; template: CloudFormationTemplate } | { ok: false; output: string }> {
  const out = mkdtempSync(join(tmpdir(), 'enl-package-'));
  try {
    await whilePackaging(() => runPackage({ ...PACKAGE_PARAMS, ...params }, out));
    return { ok: true, template: read(out).template };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message ?? ''}` };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** serverless-esbuild builds in the project's .esbuild/: one `serverless package` at a time, across test files. */
async function whilePackaging<T>(run: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE, { recursive: true });
  while (!tryLock(PACKAGING_LOCK)) await sleep(1000);
  try {
    return await run();
  } finally {
    rmSync(PACKAGING_LOCK, { recursive: true, force: true });
  }
}

function read(dir: string): PackagedService {
  return { dir, template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CloudFormationTemplate };
}

/** mkdir is atomic: whoever creates the lock packages; a lock older than any packaging is left over from a killed run */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // released meanwhile
    }
    return false;
  }
}

/** packages of older sources are of no use: keep the cache to the current one (and anything being written) */
function pruneOthers(current: string): void {
  for (const entry of readdirSync(CACHE)) {
    const path = join(CACHE, entry);
    if (path === current || entry.includes('.lock') || Date.now() - statSync(path).mtimeMs < LOCK_STALE_MS) continue;
    rmSync(path, { recursive: true, force: true });
  }
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    const full = join(PROJECT_ROOT, path);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(join(path, entry));
      return;
    }
    hash.update(relative(PROJECT_ROOT, full)).update('\0').update(readFileSync(full)).update('\0');
  };
  for (const input of INPUTS) add(input);
  return hash.digest('hex').slice(0, 16);
}
