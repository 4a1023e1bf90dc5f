/**
 * MIME multipart user data, synchronous so rendering and validation stay plain functions.
 *
 * Writing: each Content-Type is parsed with `node:util`'s MIMEType (the WHATWG MIME type
 * grammar) and written back as RFC 2045 §5.1 says: `type/subtype; name=value`, a value quoted
 * when it is not a token, long headers folded between parameters (RFC 5322 §2.2.3); the delimiter lines are RFC 2046 §5.1.1's grammar. Bodies go
 * out as they are, without Content-Transfer-Encoding, the way eksctl (Go's mime/multipart)
 * and the EKS documentation write them: cloud-init and nodeadm read them raw, and a
 * quoted-printable script would show `--max-pods=3D29` in the console. No Date or
 * Message-ID either: the document is not a mail, and must render identically every time.
 *
 * Reading: RFC 2046 delimiters, Content-Type parsed with MIMEType, bodies decoded
 * from base64 / quoted-printable. The tests check it against postal-mime (the parser the
 * sandbox's kubelet uses) on generated documents.
 */
import { MIMEType } from 'node:util';

export interface MimePart {
  /** the full Content-Type header value, parameters included */
  contentType: string;
  body: string;
}

const DEFAULT_BOUNDARY = '//';

/** True when the text is a MIME document rather than a bare script or config. */
export function isMimeDocument(raw: string): boolean {
  const head = raw.replace(/\r\n/g, '\n').split('\n\n', 1)[0] ?? '';
  return /^MIME-Version:/im.test(head) || /^Content-Type:\s*multipart\//im.test(head);
}

// ---- reading ----

interface Entity {
  headers: Map<string, string>;
  body: string;
}

function readEntity(text: string): Entity {
  const split = /\n\n/.exec(text);
  const head = split ? text.slice(0, split.index) : text;
  const body = split ? text.slice(split.index + 2) : '';
  const headers = new Map<string, string>();
  // unfold continuation lines (RFC 5322 §2.2.3), then one header a line
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(body: string, transferEncoding: string | undefined): string {
  switch (transferEncoding?.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = Buffer.from(body.replace(/=\r?\n/g, ''), 'latin1').toString('latin1').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    default:
      return body;
  }
}

function collectLeaves(entity: Entity, out: MimePart[]): void {
  const contentType = entity.headers.get('content-type') ?? 'text/plain';
  const parsed = parseMimeType(contentType);
  const boundary = parsed?.params.get('boundary');
  if (parsed?.type !== 'multipart' || !boundary) {
    out.push({ contentType, body: decodeBody(entity.body, entity.headers.get('content-transfer-encoding')) });
    return;
  }
  // a delimiter is a line of its own; the line break before it belongs to it (RFC 2046)
  const lines = entity.body.split('\n');
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}` || trimmed === `--${boundary}--`) {
      if (current) collectLeaves(readEntity(current.join('\n')), out);
      if (trimmed.endsWith(`${boundary}--`)) return;
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) collectLeaves(readEntity(current.join('\n')), out);
}

/** The leaf parts of a MIME document, in document order. */
export function readMimeParts(raw: string): MimePart[] {
  const parts: MimePart[] = [];
  collectLeaves(readEntity(raw.replace(/\r\n/g, '\n')), parts);
  return parts;
}

/**
 * The content type cloud-init would give a bare (non-MIME) user data, so it can become a
 * part: shebang scripts, `#cloud-config`, a NodeConfig; anything else is left to
 * cloud-init's own guess (text/plain).
 */
export function partForBareUserData(raw: string): MimePart {
  const contentType = raw.startsWith('#!')
    ? 'text/x-shellscript; charset="us-ascii"'
    : raw.startsWith('#cloud-config')
      ? 'text/cloud-config; charset="us-ascii"'
      : /^kind:\s*NodeConfig\s*$/m.test(raw)
        ? 'application/node.eks.aws'
        : 'text/plain; charset="us-ascii"';
  return { contentType, body: raw };
}

/** Every part of the user data: MIME parts, or the bare user data as one part. */
export function userDataParts(existing: string | undefined): MimePart[] {
  if (existing === undefined || existing.trim() === '') return [];
  return isMimeDocument(existing) ? readMimeParts(existing) : [partForBareUserData(existing)];
}

// ---- writing ----

/** A Content-Type value as MIMEType reads it, or undefined when it is not one. */
function parseMimeType(value: string): MIMEType | undefined {
  try {
    return new MIMEType(value);
  } catch {
    return undefined;
  }
}

/** RFC 2045 §5.1 token characters: printable ASCII but space and tspecials. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The longest header line written before folding, as mail writers keep it (RFC 5322 §2.1.1 says 78). */
const FOLD_AT = 76;

function parameter(name: string, value: string): string {
  if (TOKEN.test(value)) return `${name}=${value}`;
  return `${name}="${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * `Content-Type: type/subtype; name=value…`, folded between parameters past FOLD_AT
 * characters. A value that is not printable ASCII or no MIME type (a part read from someone's
 * user data) is written as it came, on one line — MIMEType would drop a parameter it cannot
 * hold — and cloud-init reads it as the reader did.
 */
function contentTypeHeader(contentType: string): string {
  const parsed = /^[\x20-\x7e\t]*$/.test(contentType) ? parseMimeType(contentType) : undefined;
  if (!parsed) return `Content-Type: ${contentType.replace(/\s+/g, ' ').trim()}`;
  const lines = [`Content-Type: ${parsed.essence}`];
  for (const [name, value] of parsed.params) {
    const next = parameter(name, value);
    const last = lines.length - 1;
    if (`${lines[last]}; ${next}`.length <= FOLD_AT) lines[last] = `${lines[last]}; ${next}`;
    else lines.splice(last, 1, `${lines[last]};`, ` ${next}`);
  }
  return lines.join('\n');
}

/** A boundary that no part body contains a delimiter line for. */
function boundaryFor(parts: readonly MimePart[]): string {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? DEFAULT_BOUNDARY : `${DEFAULT_BOUNDARY}${n}`;
    if (!parts.some((p) => p.body.includes(`--${candidate}`))) return candidate;
  }
}

/** A multipart/mixed document with the parts in order, LF line ends. */
export function writeMimeMultipart(parts: readonly MimePart[]): string {
  const boundary = boundaryFor(parts);
  const out = ['MIME-Version: 1.0', contentTypeHeader(`multipart/mixed; boundary="${boundary}"`), ''];
  for (const part of parts) out.push(`--${boundary}`, contentTypeHeader(part.contentType), '', part.body);
  out.push(`--${boundary}--`, '');
  return out.join('\n');
}
