/**
 * Identifiers for the simulated account.
 *
 * Ids come from a seeded generator rather than `crypto.randomUUID()` so that a scenario run
 * twice prints the same instance ids, tokens and event ids: a diff of two runs then shows
 * behaviour changes, not noise.
 */
export class IdFactory {
  private state: number;

  constructor(seed = 0x5eed) {
    this.state = seed >>> 0;
  }

  /** mulberry32: tiny, fast, good enough to look random in ids. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 0x10000).toString(16).padStart(4, '0');
    return out.slice(0, length);
  }

  /** RFC 4122 version-4 shaped uuid (lifecycle action tokens, event ids, request ids). */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** EC2-style id: `i-0123456789abcdef0`, `ami-…`, `lt-…`, `vol-…`, `subnet-…`. */
  ec2(prefix: string): string {
    return `${prefix}-0${this.hex(16)}`;
  }

  /** Upper-case alphanumerics, as in IAM unique ids (`AROA…`, `AIPA…`). */
  upper(length: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

/**
 * A generator seeded by `seed` and a key (a request's identity and occurrence): the same
 * draws for the same key whatever else was drawn before, so seeded faults stay reproducible
 * when concurrent handlers interleave their calls differently.
 */
export function drawsFor(seed: number, key: string): IdFactory {
  return new IdFactory((seed ^ fnv1a(key)) >>> 0);
}

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
