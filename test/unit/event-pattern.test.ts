import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesPattern } from '@eks-node-lifecycle/sandbox';

const event = { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: { state: 'running', 'instance-id': 'i-0abc', n: 5, tags: ['a', 'b'] } };

describe('EventBridge pattern matching (sandbox)', () => {
  it('matches exact values and nested objects', () => {
    assert.ok(matchesPattern({ source: ['aws.ec2'], detail: { state: ['running'] } }, event));
    assert.ok(!matchesPattern({ source: ['aws.ec2'], detail: { state: ['pending'] } }, event));
    assert.ok(!matchesPattern({ source: ['aws.autoscaling'] }, event));
  });
  it('supports prefix, anything-but, exists, numeric and arrays in the event', () => {
    assert.ok(matchesPattern({ detail: { 'instance-id': [{ prefix: 'i-' }] } }, event));
    assert.ok(matchesPattern({ detail: { state: [{ 'anything-but': ['pending'] }] } }, event));
    assert.ok(!matchesPattern({ detail: { state: [{ 'anything-but': 'running' }] } }, event));
    assert.ok(matchesPattern({ detail: { missing: [{ exists: false }] } }, event));
    assert.ok(!matchesPattern({ detail: { state: [{ exists: false }] } }, event));
    assert.ok(matchesPattern({ detail: { n: [{ numeric: ['>', 1, '<=', 5] }] } }, event));
    assert.ok(matchesPattern({ detail: { tags: ['b'] } }, event));
  });
});
