/**
 * What an AWS call's caller sees when the network fails, as the SDK v3 surfaces it in Node:
 * @smithy/node-http-handler over node:https, then the deserializer. The sandbox answers calls
 * inside the SDK's middleware stack, where the HTTP handler would have thrown these, so the
 * SDK's retry strategy classifies them as it classifies the real ones.
 *
 * Each shape was read off the real thing (a local server resetting, hanging, cutting a body
 * short; a resolver failing), and test/unit/aws-transient-errors.test.ts provokes the real
 * ones again and compares.
 */

export type AwsNetworkFault = 'connection-reset' | 'dns-failure' | 'socket-timeout' | 'half-written-response';

export const AWS_NETWORK_FAULTS: readonly AwsNetworkFault[] = ['connection-reset', 'dns-failure', 'socket-timeout', 'half-written-response'];

/** The peer reset the connection before answering: node-http-handler renames ECONNRESET to TimeoutError. */
export function connectionReset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', errno: -104, code: 'ECONNRESET', syscall: 'read' });
}

/** The resolver could not answer for the endpoint (a temporary DNS failure): never sent. */
export function dnsFailure(hostname: string): Error {
  return Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname}`), { errno: -3001, code: 'EAI_AGAIN', syscall: 'getaddrinfo', hostname });
}

/**
 * Nothing came back on the socket for `ms`: the client's socket timeout (the service default,
 * 15 min for EC2 and Auto Scaling, 5 min for EKS, unless its requestHandler sets one).
 */
export function socketTimeout(ms: number, serviceDefault: boolean): Error {
  const source = serviceDefault ? 'service default socket timeout' : 'configured by client requestHandler';
  return Object.assign(new Error(`@smithy/node-http-handler - the request socket timed out after ${ms} ms of inactivity (${source}).`), { name: 'TimeoutError' });
}

/** The answer's headers came, then the connection died mid-body: the deserializer's error, with the status it had read. */
export function halfWrittenResponse(requestId: string): Error {
  const error = Object.assign(new Error('aborted\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), {
    code: 'ECONNRESET',
    $metadata: { httpStatusCode: 200, requestId },
  });
  return error;
}
