/**
 * The valid TOML that EKS cannot merge into a managed node group's Bottlerocket settings
 * (EKS user guide, "Bottlerocket user data"). Found on the raw text: a TOML parser reads
 * `1` and `1.0` as the same number and forgets how a key was quoted.
 */

export type UnmergeableTomlConstruct =
  | 'quotes-in-quoted-key'
  | 'escaped-quote-in-value'
  | 'mixed-int-float-array'
  | 'mixed-type-array'
  | 'quoted-key-in-table-header';

export interface UnmergeableToml {
  construct: UnmergeableTomlConstruct;
  line: number;
}

interface Token {
  kind: 'string' | 'bare' | 'punct' | 'newline';
  text: string;
  /** for strings: the text between the quotes, escapes not interpreted */
  inner?: string;
  line: number;
}

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  const re = /("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')|(\r?\n)|(#[^\n]*)|([[\]{}=,])|([A-Za-z0-9_\-.+:]+)|[ \t]+|./g;
  let line = 1;
  for (const m of raw.matchAll(re)) {
    const [text] = m;
    if (m[1] !== undefined) {
      const q = text.startsWith('"""') || text.startsWith("'''") ? 3 : 1;
      tokens.push({ kind: 'string', text, inner: text.slice(q, text.length - q), line });
    } else if (m[2] !== undefined) tokens.push({ kind: 'newline', text, line });
    else if (m[4] !== undefined) tokens.push({ kind: 'punct', text, line });
    else if (m[5] !== undefined) tokens.push({ kind: 'bare', text, line });
    line += text.split('\n').length - 1;
  }
  return tokens;
}

type ValueKind = 'string' | 'integer' | 'float' | 'boolean' | 'datetime' | 'array' | 'table' | 'unknown';

function bareKind(text: string): ValueKind {
  if (text === 'true' || text === 'false') return 'boolean';
  if (/^\d{4}-\d{2}-\d{2}|^\d{2}:\d{2}/.test(text)) return 'datetime';
  if (/^[+-]?(?:\d[\d_]*|0x[\da-fA-F_]+|0o[0-7_]+|0b[01_]+)$/.test(text)) return 'integer';
  if (/^[+-]?(?:inf|nan|[\d_]+(?:\.[\d_]+)?(?:[eE][+-]?[\d_]+)?)$/.test(text)) return 'float';
  return 'unknown';
}

/** The five constructs, each where it occurs; empty when EKS can merge the text. */
export function unmergeableToml(raw: string): UnmergeableToml[] {
  const tokens = tokenize(raw);
  const found: UnmergeableToml[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const skipNewlines = () => { while (peek()?.kind === 'newline') i++; };

  const key = (stop: string) => {
    while (i < tokens.length && peek()!.text !== stop && peek()!.kind !== 'newline') {
      const t = tokens[i++]!;
      if (t.kind === 'string' && /["']/.test(t.inner!.replace(/\\\\/g, ''))) found.push({ construct: 'quotes-in-quoted-key', line: t.line });
    }
  };

  const value = (): ValueKind => {
    const t = tokens[i++];
    if (!t) return 'unknown';
    if (t.kind === 'string') {
      if (t.text.startsWith('"') && /\\"/.test(t.inner!.replace(/\\\\/g, ''))) found.push({ construct: 'escaped-quote-in-value', line: t.line });
      return 'string';
    }
    if (t.text === '[') {
      const kinds = new Set<ValueKind>();
      for (;;) {
        skipNewlines();
        if (!peek() || peek()!.text === ']') { i++; break; }
        if (peek()!.text === ',') { i++; continue; }
        kinds.add(value());
      }
      const numbers = kinds.has('integer') && kinds.has('float');
      if (numbers) found.push({ construct: 'mixed-int-float-array', line: t.line });
      const others = new Set([...kinds].filter((k) => !(numbers && (k === 'integer' || k === 'float'))));
      if (others.size + (numbers ? 1 : 0) > 1) found.push({ construct: 'mixed-type-array', line: t.line });
      return 'array';
    }
    if (t.text === '{') {
      while (peek() && peek()!.text !== '}') {
        if (peek()!.text === ',') { i++; continue; }
        key('=');
        if (peek()?.text === '=') { i++; value(); } else i++;
      }
      i++;
      return 'table';
    }
    return t.kind === 'bare' ? bareKind(t.text) : 'unknown';
  };

  while (i < tokens.length) {
    skipNewlines();
    const t = peek();
    if (!t) break;
    if (t.text === '[') {
      // [table] or [[array of tables]]: any string token in the header is a quoted key
      while (i < tokens.length && peek()!.kind !== 'newline') {
        const h = tokens[i++]!;
        if (h.kind === 'string') found.push({ construct: 'quoted-key-in-table-header', line: h.line });
      }
      continue;
    }
    key('=');
    if (peek()?.text === '=') { i++; value(); }
    while (i < tokens.length && peek()!.kind !== 'newline') i++;
  }
  return found;
}
