import { badRequest } from './errors.js';
import type { LabelSelector, Labels } from './types.js';

/**
 * Label and field selectors with the semantics of k8s.io/apimachinery: requirements are
 * ANDed; `!=` and `notin` also match objects that lack the key; `in` and `=` need it.
 */
export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' }
  | { key: string; op: 'gt' | 'lt'; value: number };

/** A selector that matches nothing (a null PDB selector, for instance). */
export const MATCH_NOTHING = 'nothing';
export type ParsedLabelSelector = LabelRequirement[] | typeof MATCH_NOTHING;

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
  return value;
}

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (set) {
      const values = set[3]!.split(',').map((v) => checkValue(v.trim(), selector));
      return { key: checkKey(set[1]!, selector), op: set[2] as 'in' | 'notin', values };
    }
    if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: 'doesnotexist' };
    const binary = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(part);
    if (binary) {
      const [, key, op, raw] = binary as unknown as [string, string, string, string];
      const value = raw.trim();
      if (op === '>' || op === '<') {
        const n = Number(value);
        if (!Number.isInteger(n)) throw badRequest(`unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer`);
        return { key: checkKey(key, selector), op: op === '>' ? 'gt' : 'lt', value: n };
      }
      return { key: checkKey(key, selector), op: op === '!=' ? 'notin' : 'in', values: [checkValue(value, selector)] };
    }
    return { key: checkKey(part, selector), op: 'exists' };
  });
}

/** metav1.LabelSelectorAsSelector: null matches nothing, an empty selector everything. */
export function labelSelectorFromObject(selector: LabelSelector | null | undefined): ParsedLabelSelector {
  if (selector === null || selector === undefined) return MATCH_NOTHING;
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'in',
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    switch (expression.operator) {
      case 'In':
        requirements.push({ key: expression.key, op: 'in', values: expression.values ?? [] });
        break;
      case 'NotIn':
        requirements.push({ key: expression.key, op: 'notin', values: expression.values ?? [] });
        break;
      case 'Exists':
        requirements.push({ key: expression.key, op: 'exists' });
        break;
      case 'DoesNotExist':
        requirements.push({ key: expression.key, op: 'doesnotexist' });
        break;
    }
  }
  return requirements;
}

export function matchesLabels(selector: ParsedLabelSelector, labels: Labels | undefined): boolean {
  if (selector === MATCH_NOTHING) return false;
  const present = labels ?? {};
  return selector.every((req) => {
    const has = Object.hasOwn(present, req.key);
    const value = present[req.key];
    switch (req.op) {
      case 'in':
        return has && req.values.includes(value!);
      case 'notin':
        return !has || !req.values.includes(value!);
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'gt':
      case 'lt': {
        const n = Number(value);
        if (!has || !Number.isInteger(n)) return false;
        return req.op === 'gt' ? n > req.value : n < req.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on unescaped commas; `\,` `\=` `\\` escape as in fields.ParseSelector. */
export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (!selector) return [];
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\' && i + 1 < selector.length) {
      current += ch + selector[++i];
    } else if (ch === ',') {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms
    .filter((t) => t.trim().length > 0)
    .map((term) => {
      const match = /^([^=!\\]+?)\s*(!=|==|=)(.*)$/s.exec(term.trim());
      if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const value = match[3]!.replace(/\\(.)/g, '$1');
      return { field: match[1]!.trim(), op: match[2] === '!=' ? '!=' : '=', value };
    });
}

export function matchesFields(requirements: readonly FieldRequirement[], fields: Readonly<Record<string, string>>): boolean {
  return requirements.every((req) => ((fields[req.field] ?? '') === req.value) === (req.op === '='));
}
