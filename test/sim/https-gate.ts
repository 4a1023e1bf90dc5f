import type { ClientRequest } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';

/**
 * Replaces `https.request` — the door the service's Kubernetes client goes through — with a
 * gate built around the original (`call` sends a request as the original would). Returns what
 * puts the original back, if the gate is still the one in place (gates stack: lambda-crash.ts,
 * private-endpoints.ts).
 */
export function replaceHttpsRequest(gate: (call: (args: unknown[]) => ClientRequest) => typeof https.request): () => void {
  const original = https.request;
  const call = (args: unknown[]) => (original as (...a: unknown[]) => ClientRequest).apply(https, args);
  const gated = gate(call);
  https.request = gated;
  syncBuiltinESMExports();
  return () => {
    if (https.request === gated) {
      https.request = original;
      syncBuiltinESMExports();
    }
  };
}
