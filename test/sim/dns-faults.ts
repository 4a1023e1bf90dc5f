import dns from 'node:dns';
import { dnsFailure } from './aws/network-errors.js';
import { drawsFor } from './aws/ids.js';

/**
 * The resolver failing for the sandbox's clients that connect by name: a seeded share of the
 * lookups of `hostnames` end in `getaddrinfo EAI_AGAIN <host>` (a DNS server that did not
 * answer in time), the rest are resolved as usual. Node resolves a name through `dns.lookup`
 * each time it opens a connection, so replacing it reaches every client unchanged — the
 * service's Kubernetes client included — and a keep-alive connection already open needs no
 * lookup, as in production. Addresses are never looked up: give the cluster's endpoint by
 * name (`world.addCluster(name, { endpointHost: 'localhost' })`).
 *
 * Which lookups fail is drawn from the seed and how many lookups of that name came before:
 * connections are opened as real I/O orders them, so a run fails the same number of lookups
 * at the same places in that sequence, not necessarily the same requests.
 */
export interface DnsFaultOptions {
  hostnames: readonly string[];
  /** the share of lookups that fail, 0–1 */
  rate: number;
  seed: number;
  /** at most this many failures */
  limit?: number;
}

export interface DnsFaults {
  /** lookups of the hostnames, failed or not */
  readonly lookups: number;
  /** the hostnames of the failed lookups, in order */
  readonly failed: readonly string[];
  restore(): void;
}

let installed = false;

export function failDnsLookups(options: DnsFaultOptions): DnsFaults {
  if (!(options.rate >= 0 && options.rate <= 1)) throw new Error(`failDnsLookups: rate ${options.rate} is not in [0, 1]`);
  if (installed) throw new Error('failDnsLookups: already failing lookups; restore() the other first');
  installed = true;
  const lookup = dns.lookup;
  const seen = new Map<string, number>();
  const failed: string[] = [];
  let lookups = 0;
  const faulty = function sandboxLookup(hostname: string, ...rest: unknown[]) {
    const callback = rest.at(-1) as (error: Error) => void;
    if (options.hostnames.includes(hostname)) {
      lookups++;
      const nth = (seen.get(hostname) ?? 0) + 1;
      seen.set(hostname, nth);
      const fails = (options.limit === undefined || failed.length < options.limit) && drawsFor(options.seed, `${hostname} #${nth}`).next() < options.rate;
      if (fails) {
        failed.push(hostname);
        process.nextTick(() => callback(dnsFailure(hostname)));
        return;
      }
    }
    return (lookup as (...args: unknown[]) => void)(hostname, ...rest);
  };
  dns.lookup = faulty as typeof dns.lookup;
  return {
    get lookups() {
      return lookups;
    },
    failed,
    restore() {
      if (dns.lookup === (faulty as unknown)) dns.lookup = lookup;
      installed = false;
    },
  };
}
