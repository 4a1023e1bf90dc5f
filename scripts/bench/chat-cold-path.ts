/**
 * Benchmark: chatSlack's whole cold path — what Slack waits for on the first slash command
 * after a deploy or an idle spell. Slack gives a slash command 3 seconds for its HTTP answer
 * (https://docs.slack.dev/interactivity/implementing-slash-commands#responding_to_commands).
 *
 * A fresh Node process loads the deployed bundle (esbuild as serverless-esbuild builds it) and
 * answers one signed `/nodes status prod` request as the function URL hands it over: the
 * signing secret from SSM, the replay claim in DynamoDB, the hand-off to chatWorker (an
 * asynchronous Lambda invoke) — all three against a local endpoint that answers at once, so
 * the figure is our code's and the SDK's; each AWS call in the region adds its round trip
 * (tens of milliseconds). Median of fresh processes; the endpoint counts the calls.
 *
 * Run alone with `npx tsx scripts/bench/chat-cold-path.ts`.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { loadServerlessModel, resolveEnvironment, signedSlackEvent, slashCommandBody } from '@eks-node-lifecycle/sandbox';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const OUT = join(ROOT, '.bench', 'chat-cold-path');
const SLACK_DEADLINE_MS = 3000;
const SECRET = 'bench-signing-secret';
const TEAM = 'T0BENCH';

export interface ChatColdPathFigures {
  runs: number;
  /** median ms: loading the bundle (Lambda's Init phase, our part of it) */
  initMs: number;
  /** median ms: the first request, from the event to the HTTP answer (secret, claim, hand-off) */
  firstRequestMs: number;
  /** median ms: init + first request */
  totalMs: number;
  /** the slowest run's total */
  worstMs: number;
  /** the answer's status code and the AWS calls of one run, by target */
  status: number;
  callsPerRun: Record<string, number>;
}

/** Answers SSM GetParameter, DynamoDB PutItem and Lambda Invoke (Event) as AWS would, at once. */
function fakeAws(): Promise<{ server: Server; url: string; calls: Map<string, number> }> {
  const calls = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? (req.url?.includes('/invocations') ? 'Lambda.Invoke' : req.url));
      calls.set(target, (calls.get(target) ?? 0) + 1);
      if (target === 'AmazonSSM.GetParameter') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Parameter: { Name: 'secret', Type: 'SecureString', Value: SECRET, Version: 1 } }));
      } else if (target.startsWith('DynamoDB_20120810.')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      } else if (target === 'Lambda.Invoke') {
        res.writeHead(202, { 'content-type': 'application/json' }).end('');
      } else {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      }
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls })));
}

export async function benchChatColdPath(runs = 15): Promise<ChatColdPathFigures> {
  const config = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { merge: true }) as { custom: { esbuild: { exclude: string[] } } };
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, 'chatSlack.cjs');
  await build({ entryPoints: [join(ROOT, 'functions/chat-slack.ts')], outfile, bundle: true, minify: true, platform: 'node', format: 'cjs', target: 'node22', external: config.custom.esbuild.exclude, logLevel: 'silent' });
  const model = loadServerlessModel({ stage: 'dev', region: 'eu-west-1', params: { slackTeamIds: TEAM } });
  const fn = model.functions.find((f) => f.key === 'chatSlack')!;
  const aws = await fakeAws();
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: model.region,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'eks-node-lifecycle-dev-chatSlack',
    AWS_ENDPOINT_URL_SSM: aws.url,
    AWS_ENDPOINT_URL_DYNAMODB: aws.url,
    AWS_ENDPOINT_URL_LAMBDA: aws.url,
    ...resolveEnvironment(model, model.providerEnvironment),
    ...resolveEnvironment(model, fn.environment),
  };
  const run = promisify(execFile);
  const inits: number[] = [];
  const firsts: number[] = [];
  let status = 0;
  try {
    for (let i = 0; i < runs; i++) {
      const event = signedSlackEvent(SECRET, slashCommandBody({ team: TEAM, user: 'U0BENCH', channel: 'C0BENCH', text: 'status prod', responseUrl: 'https://hooks.slack.com/commands/T0BENCH/1/abc' }), new Date());
      const script = `const t0=process.hrtime.bigint();const m=require(${JSON.stringify(outfile)});const t1=process.hrtime.bigint();m.handler(${JSON.stringify(event)},{awsRequestId:'bench-${i}',functionName:'chatSlack',getRemainingTimeInMillis:()=>10000}).then((r)=>{const t2=process.hrtime.bigint();process.stdout.write(JSON.stringify({init:Number(t1-t0)/1e6,first:Number(t2-t1)/1e6,status:r.statusCode}))})`;
      const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
      const figures = JSON.parse(stdout.trim().split('\n').at(-1)!) as { init: number; first: number; status: number };
      inits.push(figures.init);
      firsts.push(figures.first);
      status = figures.status;
    }
  } finally {
    aws.server.close();
  }
  const totals = inits.map((v, i) => v + firsts[i]!);
  const callsPerRun = Object.fromEntries([...aws.calls].map(([k, v]) => [k, v / runs]));
  return { runs, initMs: median(inits), firstRequestMs: median(firsts), totalMs: median(totals), worstMs: Math.max(...totals), status, callsPerRun };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function renderChatColdPath(f: ChatColdPathFigures): string {
  return `
## chatSlack's cold path against Slack's 3 seconds

One fresh process per run loads the chatSlack bundle and answers one signed \`/nodes status prod\`
(signature checked with the secret from SSM, the request claimed once in DynamoDB, the work
handed to chatWorker by an asynchronous invoke), against a local endpoint that answers at once:
our code and the SDK, without network. Median of ${f.runs} runs; answer HTTP ${f.status}; AWS calls per
run: ${Object.entries(f.callsPerRun).map(([k, v]) => `${k} ${v}`).join(', ')}.

| init (bundle load) | first request | **total** | slowest run | Slack's limit | headroom |
|---|---|---|---|---|---|
| ${f.initMs.toFixed(0)} ms | ${f.firstRequestMs.toFixed(0)} ms | **${f.totalMs.toFixed(0)} ms** | ${f.worstMs.toFixed(0)} ms | ${SLACK_DEADLINE_MS} ms | ${(SLACK_DEADLINE_MS / f.totalMs).toFixed(1)}× |

Lambda adds what this leaves out: its own cold start (sandbox and runtime, typically a few
hundred ms for nodejs22.x on arm64) and three in-region round trips.
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderChatColdPath(await benchChatColdPath()));
}
