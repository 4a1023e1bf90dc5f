/**
 * Characters that would make text read differently from what it is: C0/C1 controls other than
 * whitespace; format characters (`\p{Cf}`: zero-width spaces and joiners, bidi overrides and
 * isolates — Trojan Source —, tag characters U+E0000–E007F, the BOM); unpaired surrogates;
 * private-use characters; and the Hangul fillers, letters that draw nothing. Text people give
 * the service (a command, a reason) holding one is refused: an audit record must read as what ran.
 * Emoji written with a zero-width joiner are refused with them: a reason reads as well without.
 */
export const INVISIBLE_CHARACTER = /(?![\t\n\v\f\r])[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u115F\u1160\u3164\uFFA0]/u;

/** The text with every invisible character written out as `\u{200b}`: what may be stored or shown of it. */
export function showInvisible(text: string): string {
  return text.replace(new RegExp(INVISIBLE_CHARACTER.source, 'gu'), (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
