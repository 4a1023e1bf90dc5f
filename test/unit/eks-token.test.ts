import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEksToken, EksTokenCache, TOKEN_PREFIX } from '../../shared/kube/eks-token.js';
import { authenticateEksToken } from '@eks-node-lifecycle/sandbox';

const credentials = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' };
const t0 = Date.UTC(2026, 10, 21, 9, 0, 0);

describe('EKS bearer token', () => {
  it('is k8s-aws-v1. + base64url without padding of a presigned STS GetCallerIdentity URL', async () => {
    const { token, expiresAt } = await createEksToken('prod', { region: 'eu-west-1', credentials, now: () => new Date(t0) });
    assert.ok(token.startsWith(TOKEN_PREFIX));
    const encoded = token.slice(TOKEN_PREFIX.length);
    assert.match(encoded, /^[A-Za-z0-9_-]+$/, 'no padding, no + or /');
    const url = new URL(Buffer.from(encoded, 'base64url').toString());
    assert.equal(url.host, 'sts.eu-west-1.amazonaws.com');
    assert.equal(url.searchParams.get('Action'), 'GetCallerIdentity');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '60');
    assert.deepEqual(url.searchParams.get('X-Amz-SignedHeaders')?.split(';').sort(), ['host', 'x-k8s-aws-id']);
    assert.equal(url.searchParams.get('X-Amz-Date'), '20261121T090000Z');
    assert.equal(expiresAt.getTime(), t0 + 15 * 60_000);
  });

  it('is accepted for its own cluster and refused by another', async () => {
    const { token } = await createEksToken('prod', { region: 'eu-west-1', credentials, now: () => new Date(t0) });
    assert.deepEqual(await authenticateEksToken(token, { cluster: 'prod', credentials, now: () => t0 + 60_000 }), { ok: true });
    const other = await authenticateEksToken(token, { cluster: 'staging', credentials, now: () => t0 + 60_000 });
    assert.equal(other.ok, false);
  });

  it('is refused after 15 minutes', async () => {
    const { token } = await createEksToken('prod', { region: 'eu-west-1', credentials, now: () => new Date(t0) });
    const late = await authenticateEksToken(token, { cluster: 'prod', credentials, now: () => t0 + 15 * 60_000 + 1 });
    assert.deepEqual(late, { ok: false, reason: 'token expired' });
  });

  it('is reused until a minute before it expires, then renewed', async () => {
    let clock = t0;
    const cache = new EksTokenCache({ region: 'eu-west-1', credentials, now: () => new Date(clock) });
    const first = await cache.get('prod');
    clock = t0 + 13 * 60_000;
    assert.equal(await cache.get('prod'), first);
    assert.notEqual(await cache.get('staging'), first, 'one token per cluster');
    clock = t0 + 14 * 60_000 + 1;
    const renewed = await cache.get('prod');
    assert.notEqual(renewed, first);
    assert.deepEqual(await authenticateEksToken(renewed, { cluster: 'prod', credentials, now: () => clock }), { ok: true });
  });
});
