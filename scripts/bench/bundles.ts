/**
 * Benchmark: what each Lambda function ships and what its cold start costs before the handler
 * runs. Every function of serverless.yml is bundled with the esbuild options of its
 * `custom.esbuild` (minified, the AWS SDK left to the runtime), and so is a bare middy +
 * Powertools Logger handler (bare-handler.ts), the yardstick.
 *
 * Cold module initialisation is what Lambda's Init phase spends in our code: a fresh Node
 * process `require`s the bundle (and, as in Lambda, the AWS SDK clients it imports from the
 * runtime), timed inside that process; the median of several processes. The process start
 * itself is the same for every function and is left out.
 *
 * Run alone with `npx tsx scripts/bench/bundles.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { loadServerlessModel, resolveEnvironment } from '@eks-node-lifecycle/sandbox';

export interface BundleFigure {
  name: string;
  outfile: string;
  bytes: number;
  /** median cold module initialisation, ms: the whole require, the runtime's AWS SDK clients included */
  initMs: number;
  /** median of the same with the AWS SDK modules it imports already loaded: our code and what it bundles */
  codeInitMs: number;
  /** the runtime modules (AWS SDK) the bundle imports */
  external: string[];
  /** median of the bare handler's init, measured alternately with this function's and after the same SDK modules (the pair a ratio is taken from) */
  pairedBareMs: number;
  /** largest contributors to the bundle, by package */
  top: { pkg: string; bytes: number }[];
}

export interface BundleFigures {
  bare: BundleFigure;
  functions: BundleFigure[];
  runs: number;
  /** where code init goes, for a few functions (and the bare handler) */
  breakdowns: InitBreakdown[];
}

/** A function's code init split by what runs: medians per part, ms */
export interface InitBreakdown {
  name: string;
  parts: Record<InitPart, number>;
  total: number;
}

const INIT_PARTS = ['compile and load', 'zod', 'Powertools and middy', 'other libraries', 'schemas (shared/events, shared/config)', 'handler module and functions/lib', 'other project modules'] as const;
type InitPart = (typeof INIT_PARTS)[number];

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** inside the project, so the bundles resolve the AWS SDK from node_modules as Lambda does from the runtime */
const OUT = join(ROOT, '.bench', 'bundles');

export async function benchBundles(runs = 15): Promise<BundleFigures> {
  const config = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { merge: true }) as { custom?: { esbuild?: Record<string, unknown> } };
  const options = esbuildOptions(config.custom?.esbuild ?? {});
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // each function initialises with its deployed environment (table names, ARNs, parameters)
  const model = loadServerlessModel({ stage: 'dev', region: 'eu-west-1' });
  const base = { AWS_REGION: model.region, ...resolveEnvironment(model, model.providerEnvironment) };
  const bare = await measure({ name: 'bare middy + Powertools Logger', entry: 'scripts/bench/bare-handler.ts', env: base }, options, runs);
  const functions: BundleFigure[] = [];
  for (const fn of model.functions) {
    functions.push(await measure({ name: fn.key, entry: `${fn.module}.ts`, env: { ...base, ...resolveEnvironment(model, fn.environment) } }, options, runs, { outfile: bare.outfile, env: base }));
  }
  // the smallest, a middling and the slowest function, beside the bare handler
  const byInit = [...functions].sort((a, b) => a.codeInitMs - b.codeInitMs);
  const picked = [...new Set([byInit[0]!, byInit[Math.floor(byInit.length / 2)]!, byInit.at(-1)!])];
  const breakdowns: InitBreakdown[] = [];
  for (const [name, entry, env] of [['bare middy + Powertools Logger', 'scripts/bench/bare-handler.ts', base] as const, ...picked.map((f) => { const fn = model.functions.find((m) => m.key === f.name)!; return [f.name, `${fn.module}.ts`, { ...base, ...resolveEnvironment(model, fn.environment) }] as const; })]) {
    breakdowns.push(await breakdown(name, entry, env, options, runs, picked.find((f) => f.name === name)?.external ?? picked[0]!.external));
  }
  return { bare, functions, runs, breakdowns };
}

/**
 * Where code init goes. The bundle is built as measured but without whitespace minification,
 * so esbuild's `// path` line opening each module's code stays; a timestamp taken there
 * splits the one `require` into the time each module's top-level code runs (in a bundle,
 * modules initialise one after the other, in import order). What runs before the first
 * module is the compile of the whole file and esbuild's helpers. Same preload as `measure`.
 */
async function breakdown(name: string, entry: string, env: Record<string, string>, options: BuildOptions, runs: number, external: string[]): Promise<InitBreakdown> {
  const outfile = join(OUT, `${name.replace(/[^\w.-]+/g, '-')}.marked.cjs`);
  await build({ ...options, minify: false, minifySyntax: true, minifyIdentifiers: true, metafile: false, entryPoints: [join(ROOT, entry)], outfile });
  const marked = readFileSync(outfile, 'utf8').replace(/^\/\/ (\S+\.(?:ts|js|cjs|mjs|json))$/gm, (line, path: string) => `${line}\nglobalThis.__initMark(${JSON.stringify(path)});`);
  writeFileSync(outfile, marked);
  const warm = external.some((m) => m.startsWith('@aws-sdk/client-')) ? `new (require('@aws-sdk/client-sts').STSClient)({region:process.env.AWS_REGION});` : '';
  const script = `for(const m of ${JSON.stringify(external)})require(m);${warm}const marks=[['(start)',process.hrtime.bigint()]];globalThis.__initMark=(p)=>marks.push([p,process.hrtime.bigint()]);require(${JSON.stringify(outfile)});marks.push(['(end)',process.hrtime.bigint()]);const o={};for(let i=0;i<marks.length-1;i++)o[marks[i][0]]=(o[marks[i][0]]??0)+Number(marks[i+1][1]-marks[i][1])/1e6;process.stdout.write(JSON.stringify(o))`;
  const samples: Record<InitPart, number>[] = [];
  for (let i = 0; i < runs; i++) {
    const byModule = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Record<string, number>;
    const parts = Object.fromEntries(INIT_PARTS.map((p) => [p, 0])) as Record<InitPart, number>;
    for (const [module, ms] of Object.entries(byModule)) parts[partOf(module)] += ms;
    samples.push(parts);
  }
  const parts = Object.fromEntries(INIT_PARTS.map((p) => [p, median(samples.map((s) => s[p]))])) as Record<InitPart, number>;
  return { name, parts, total: median(samples.map((s) => Object.values(s).reduce((a, b) => a + b, 0))) };
}

function partOf(module: string): InitPart {
  if (module === '(start)') return 'compile and load';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1];
  if (pkg === 'zod') return 'zod';
  if (pkg?.startsWith('@aws-lambda-powertools/') || pkg?.startsWith('@middy/') || pkg === '@aws/lambda-invoke-store') return 'Powertools and middy';
  if (pkg) return 'other libraries';
  if (/^shared\/(events|config)\//.test(module)) return 'schemas (shared/events, shared/config)';
  if (/^functions\//.test(module) || module.startsWith('scripts/bench/')) return 'handler module and functions/lib';
  return 'other project modules';
}

function esbuildOptions(custom: Record<string, unknown>): BuildOptions {
  return {
    bundle: custom.bundle !== false,
    minify: custom.minify === true,
    target: String(custom.target ?? 'node22'),
    platform: (custom.platform as BuildOptions['platform']) ?? 'node',
    format: (custom.format as BuildOptions['format']) ?? 'cjs',
    external: (custom.exclude as string[] | undefined) ?? ['@aws-sdk/*'],
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
  };
}

async function measure(entry: { name: string; entry: string; env: Record<string, string> }, options: BuildOptions, runs: number, pairWith?: { outfile: string; env: Record<string, string> }): Promise<BundleFigure> {
  const outfile = join(OUT, `${entry.name.replace(/[^\w.-]+/g, '-')}.cjs`);
  const result = await build({ ...options, entryPoints: [join(ROOT, entry.entry)], outfile });
  const bytes = statSync(outfile).size;
  const byPkg = new Map<string, number>();
  for (const output of Object.values(result.metafile!.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(this project)';
      byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + input.bytesInOutput);
    }
  }
  const top = [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([pkg, n]) => ({ pkg, bytes: n }));
  const external = [...new Set(Object.values(result.metafile!.outputs).flatMap((o) => o.imports.filter((i) => i.external && /^@(aws-sdk|smithy)\//.test(i.path)).map((i) => i.path)))].sort();
  const whole: number[] = [];
  const code: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    // the yardstick alongside, run by run (a busy machine slows both alike), and in the same
    // state: the same SDK modules loaded first. Loaded into a process that has not yet loaded
    // Node's own modules (async_hooks, util, …), the bare handler would pay for those and look
    // 2–3× slower than it is in Lambda, whose runtime has them loaded before any handler.
    if (pairWith) bare.push(initTime(pairWith.outfile, pairWith.env, external));
    whole.push(initTime(outfile, entry.env, []));
    code.push(initTime(outfile, entry.env, external));
  }
  return { name: entry.name, outfile, bytes, initMs: median(whole), codeInitMs: median(code), pairedBareMs: bare.length ? median(bare) : median(code), external, top };
}

/**
 * One fresh process: the time `require` of the bundle takes, measured inside it (after loading
 * `preload`, untimed). With a preload, the SDK's one-time setup is left out too: the first
 * client any SDK package constructs loads the SDK's shared configuration and credential
 * modules (≈ 5 ms; every later client ≈ 0.8 ms), so a throwaway STS client is built first —
 * the function's own clients are still built, and timed, by its code.
 */
function initTime(bundle: string, env: Record<string, string>, preload: string[]): number {
  const warm = preload.some((m) => m.startsWith('@aws-sdk/client-')) ? `new (require('@aws-sdk/client-sts').STSClient)({region:process.env.AWS_REGION});` : '';
  const script = `for(const m of ${JSON.stringify(preload)})require(m);${warm}const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return Number(out);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

export function renderBundles(figures: BundleFigures, limits = { bytes: 300 * 1024, initRatio: 2 }): string {
  const bare = figures.bare.initMs;
  const rows = figures.functions.map((f) => {
    const ratio = f.codeInitMs / f.pairedBareMs;
    return `| ${f.name} | ${kb(f.bytes)}${f.bytes > limits.bytes ? ' ✗' : ''} | ${f.codeInitMs.toFixed(1)} ms | ${f.pairedBareMs.toFixed(1)} ms | **${ratio.toFixed(2)}×**${ratio > limits.initRatio ? ' ✗' : ''} | ${f.initMs.toFixed(1)} ms (${(f.initMs / bare).toFixed(1)}×) | ${f.external.length} | ${f.top.map((t) => `${t.pkg} ${kb(t.bytes)}`).join(', ')} |`;
  });
  const over = figures.functions.filter((f) => f.bytes > limits.bytes).length;
  const slow = figures.functions.filter((f) => f.codeInitMs / f.pairedBareMs > limits.initRatio).length;
  return `
## Lambda bundles and cold module initialisation

Each function bundled as \`serverless package\` does it (esbuild from \`custom.esbuild\`: minified,
cjs, \`@aws-sdk/*\` and \`@smithy/*\` left to the nodejs22.x runtime), with its deployed environment.
Cold init is timed inside a fresh Node process around \`require\` of the bundle; median of
${figures.runs} processes. "code init" is the bundle alone (the AWS SDK client modules it imports
loaded first, and the SDK's one-time setup of a first client, untimed): what our code and what we
bundle cost, the construction of the function's own clients included. "with SDK" is the whole require
in a fresh process, the runtime's SDK clients included (its ratio is to the bare handler's, also in a
fresh process) — the cold-start latency an operator sees, of which the SDK
is a fixed cost per client the function uses. The yardstick is a bare middy + Powertools Logger
handler bundled the same way (**${kb(figures.bare.bytes)}**; ${bare.toFixed(1)} ms alone in a fresh process, which also
loads the Node modules it needs), measured run by run beside each function after the same SDK
modules ("bare" below): the same state, so the ratio compares code with code.
(Until 2026-12-07 the bare handler was timed in a fresh process, its Node modules included,
against functions whose SDK preload had already loaded theirs: a yardstick 2–3× too long.)
Targets: ≤ ${kb(limits.bytes)} and code init ≤ ${limits.initRatio}× the bare handler's (✗ marks a miss:
${over} over the size, ${slow} over the init ratio).

| function | bundle | code init | bare | × bare | with SDK | SDK modules | largest parts |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Where code init goes (median ms of ${figures.runs} processes per part; the same bundle without
whitespace minification, a timestamp where each module's code begins; "compile and load" is
V8 compiling the whole file before any module runs, which grows with the bundle's size;
"schemas" is zod building the schemas at module load; the handler module builds the
function's adapters and clients):

| part | ${figures.breakdowns.map((b) => b.name).join(' | ')} |
|---|${figures.breakdowns.map(() => '---').join('|')}|
${INIT_PARTS.map((p) => `| ${p} | ${figures.breakdowns.map((b) => b.parts[p].toFixed(2)).join(' | ')} |`).join('\n')}
| **total** | ${figures.breakdowns.map((b) => `**${b.total.toFixed(1)}**`).join(' | ')} |
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderBundles(await benchBundles()));
}
