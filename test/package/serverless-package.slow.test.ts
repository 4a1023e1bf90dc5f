import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadServerlessModel, PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';
import { type CloudFormationTemplate, packageService } from './packaged-service.js';

/**
 * `serverless package` runs offline with dummy credentials and produces the CloudFormation
 * and the bundles `serverless deploy` would ship; the template holds what serverless.yml
 * declares.
 */
const run = promisify(execFile);
const model = loadServerlessModel({ stage: 'ci' });
let out: string;
let unzipped: string;
let template: CloudFormationTemplate;

const resources = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const logicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

describe('Deployable package: serverless package', () => {
  before(async () => {
    // shared with the other test/package files (one packaging per change of the sources)
    ({ dir: out, template } = await packageService());
    unzipped = mkdtempSync(join(tmpdir(), 'enl-unzipped-'));
  });
  after(() => rmSync(unzipped, { recursive: true, force: true }));

  it('bundles every function into its own zip', () => {
    for (const fn of model.functions) {
      assert.ok(existsSync(join(out, `${fn.key}.zip`)), `${fn.key}.zip`);
    }
  });

  it('ships bundles that load on their own (the SDK coming from the runtime, as on Lambda) and reject bad input with a typed error', async () => {
    for (const fn of model.functions) {
      const dir = join(unzipped, fn.key);
      await run('unzip', ['-q', '-o', join(out, `${fn.key}.zip`), '-d', dir]);
      const probe = `
        const { ${fn.exportName} } = require(${JSON.stringify(join(dir, `${fn.module}.js`))});
        ${fn.exportName}('not an event', { functionName: '${fn.key}', awsRequestId: 'probe', getRemainingTimeInMillis: () => 1000 })
          .then((r) => { console.log(r && r.statusCode ? 'HTTP ' + r.statusCode : 'accepted'); }, (e) => { console.log(e.name); });`;
      // the function's environment as deployed, CloudFormation references standing in as ARNs
      const variables = template.Resources[logicalId(fn.key)]!.Properties.Environment?.Variables ?? {};
      const deployedEnv = Object.fromEntries(
        Object.entries<unknown>(variables).map(([k, v]) => [k, typeof v === 'string' ? v : pseudoParameter(v) ?? `arn:aws:states:eu-west-1:111122223333:stateMachine:${JSON.stringify(v).replace(/\W/g, '')}`]),
      );
      const { stdout } = await run(process.execPath, ['-e', probe], {
        env: {
          PATH: process.env.PATH,
          // the nodejs22.x runtime puts its AWS SDK v3 on NODE_PATH; here the project's stands in
          NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDOFFLINE',
          AWS_SECRET_ACCESS_KEY: 'offline',
          ...deployedEnv,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      }).catch((error: Error & { stderr?: string }) => {
        throw new Error(`${fn.key}: ${(error.stderr ?? error.message).split('\n').filter((l) => /Error/.test(l)).slice(0, 3).join(' | ').slice(0, 500)}`);
      });
      // a function URL answers HTTP: bad input is a 400, not an error; behind AWS_IAM auth an
      // event naming no authenticated caller is a 403 before anything else is read
      const url = resources('AWS::Lambda::Url').find(([, r]) => r.Properties.TargetFunctionArn?.['Fn::GetAtt']?.[0] === logicalId(fn.key));
      assert.equal(stdout.trim(), url ? (url[1].Properties.AuthType === 'AWS_IAM' ? 'HTTP 403' : 'HTTP 400') : 'InvalidInputError', fn.key);
    }
  });

  it('ships none of the test-only (AGPL) IAM simulator in any bundle', async () => {
    for (const fn of model.functions) {
      const dir = join(unzipped, `${fn.key}-licence`);
      await run('unzip', ['-q', '-o', join(out, `${fn.key}.zip`), '-d', dir]);
      const { stdout } = await run('grep', ['-rlE', 'iam-simulate|cloud-copilot|runUnsafeSimulation', dir]).catch((e: { code?: number; stdout?: string }) => {
        if (e.code === 1) return { stdout: '' }; // grep: nothing found
        throw e;
      });
      assert.equal(stdout, '', `${fn.key} bundles it`);
    }
  });

  it('declares every function on nodejs22.x with a role of its own', () => {
    const roles = new Set<string>();
    for (const fn of model.functions) {
      const resource = template.Resources[logicalId(fn.key)];
      assert.ok(resource, `${fn.key} is in the template`);
      assert.equal(resource.Properties.Runtime, 'nodejs22.x');
      assert.equal(resource.Properties.FunctionName, `eks-node-lifecycle-ci-${fn.key}`);
      const role = resource.Properties.Role['Fn::GetAtt'][0];
      assert.equal(template.Resources[role]?.Type, 'AWS::IAM::Role', `${fn.key} has role ${role}`);
      roles.add(role);
    }
    assert.equal(roles.size, model.functions.length, 'no two functions share a role');
  });

  it('loads every state machine from its workflows/ file', () => {
    for (const machine of model.stateMachines) {
      const resource = template.Resources[machine.id];
      assert.equal(resource?.Type, 'AWS::StepFunctions::StateMachine');
      const body = JSON.stringify(resource!.Properties.DefinitionString);
      for (const state of Object.keys(machine.definition.States)) assert.ok(body.includes(JSON.stringify(state).slice(1, -1)), `${machine.key} has state ${state}`);
      assert.equal(resource!.Properties.StateMachineName, `eks-node-lifecycle-ci-${machine.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  });

  it('creates one EventBridge rule per pattern, targeting its function', () => {
    const rules = resources('AWS::Events::Rule');
    const expected = model.functions.flatMap((fn) => fn.eventPatterns.map((pattern) => ({ fn, pattern })));
    assert.equal(rules.length, expected.length);
    for (const { fn, pattern } of expected) {
      const rule = rules.find(([, r]) => JSON.stringify(r.Properties.EventPattern) === JSON.stringify(pattern));
      assert.ok(rule, `a rule for ${JSON.stringify(pattern)}`);
      assert.deepEqual(rule![1].Properties.Targets[0].Arn, { 'Fn::GetAtt': [logicalId(fn.key), 'Arn'] });
    }
  });

  it('passes the node-join state machine ARN to the tagging function', () => {
    const env = template.Resources[logicalId('tagInstance')]!.Properties.Environment.Variables;
    assert.deepEqual(env.NODE_JOIN_STATE_MACHINE_ARN, { Ref: 'NodeJoinStateMachine' });
    assert.equal(env.MANAGED_CLUSTERS, '*');
  });
});

describe('Deployable package: managedClusters must be written', () => {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDOFFLINE', AWS_SECRET_ACCESS_KEY: 'offline', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' };
  const serverless = join(PROJECT_ROOT, 'node_modules', '.bin', 'serverless');

  it('refuses to package without it, saying what to pass, before building anything', async () => {
    // `print` resolves the configuration as package and deploy do, and stops where they stop
    const failed = await run(serverless, ['print', '--stage', 'ci', '--region', 'eu-west-1'], { cwd: PROJECT_ROOT, env, timeout: 120_000 }).then(
      () => assert.fail('expected serverless to refuse'),
      (error: { stdout?: string; stderr?: string; code?: number }) => error,
    );
    assert.notEqual(failed.code, 0);
    assert.match(`${failed.stdout}${failed.stderr}`, /managedClusters has no default: name the clusters this deployment looks after, e\.g\. --param="managedClusters=prod,staging"/);
  });

  it('takes a list, or * when written', async () => {
    const { stdout } = await run(serverless, ['print', '--stage', 'ci', '--region', 'eu-west-1', '--param=managedClusters=prod,staging', '--path', 'provider.environment.MANAGED_CLUSTERS'], { cwd: PROJECT_ROOT, env, timeout: 120_000 });
    assert.equal(stdout.trim(), 'prod,staging');
  });
});

/** CloudFormation's pseudo parameters as the account and region the probe stands in (HUB_ACCOUNT_ID is `Ref: AWS::AccountId`). */
function pseudoParameter(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  return ref === 'AWS::AccountId' ? '111122223333' : ref === 'AWS::Region' ? 'eu-west-1' : undefined;
}
