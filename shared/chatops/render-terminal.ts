import { mentionsAsText } from './mentions.js';
import { actionText, alignTable, joinBlocks, progressBar } from './render.js';
import type { Reply, ReplySection } from './types.js';

/**
 * A reply as the CLI prints it on a terminal, the way `kubectl get` does: Slack's emoji codes
 * (`:rocket:`) and markup (`*bold*`, `` `code` ``) gone, tables in aligned columns, every time
 * relative and absolute (`3m ago (2026-12-07 08:12 UTC)`). Plain output cuts long cells (but the last column's);
 * `wide` shows them whole, with the columns a table keeps for `-o wide`. Pure: `now` is given
 * (the service's clock, so the sandbox's virtual time reads right).
 */
export interface TerminalOptions {
  now: Date;
  wide?: boolean;
}

/** The widest a cell is shown without `-o wide`. */
export const MAX_CELL = 60;

export function toTerminal(reply: Reply, options: TerminalOptions): string {
  const clean = (text: string) => withTimes(plainWords(mentionsAsText(text)), options.now);
  const blocks: string[][] = [[clean(reply.title)]];
  for (const section of reply.sections) {
    const body = sectionLines(section, options, clean);
    if (body.length > 0) blocks.push(body);
  }
  const actions = (reply.actions ?? []).map(actionText);
  if (actions.length > 0) blocks.push(actions);
  if (reply.context?.trim()) blocks.push([clean(reply.context)]);
  return joinBlocks(blocks);
}

function sectionLines(section: ReplySection, options: TerminalOptions, clean: (text: string) => string): string[] {
  const heading = 'heading' in section && section.heading ? [`${clean(section.heading)}:`] : [];
  // under a heading, lines are indented, as `kubectl describe` does; tables stay flush, as `kubectl get` prints them
  const indent = (lines: string[]) => (heading.length > 0 ? lines.map((line) => `  ${line}`) : lines);
  switch (section.kind) {
    case 'text':
      return [...heading, ...indent(section.lines.map(clean))];
    case 'fields':
      return [...heading, ...indent(alignTable([], section.fields.map(([label, value]) => [clean(label), clean(value)])).filter((line) => line !== ''))];
    case 'table': {
      const wide = options.wide && section.wide ? section.wide : undefined;
      const columns = [...section.columns, ...(wide?.columns ?? [])];
      // the last column costs no alignment: it is never cut
      const rows = section.rows.map((row, i) => [...row, ...(wide ? (wide.rows[i] ?? []) : [])].map((cell, c) => cut(clean(cell), options.wide || c === columns.length - 1 ? Infinity : MAX_CELL)));
      return [...heading, ...alignTable(columns, rows)];
    }
    case 'progress':
      return [progressBar(section.done, section.total, clean(section.label))];
  }
}

/** Emoji codes standing alone (`:rocket: Rollout…`, never the colons of an ARN or a time), `*bold*`, and code spans as quotes. */
export function plainWords(text: string): string {
  return text
    .replace(/(^|\s):[a-z0-9_+-]+:(?=\s|$)\s?/g, '$1')
    .replace(/(^|\s)\*([^*\n]+)\*(?=\s|$|[.,;:])/g, '$1$2')
    .replace(/`([^`\n]*)`/g, '"$1"');
}

/** `2026-12-07T08:12:30.000Z`, `2026-12-07 08:12:30`, `2026-12-07 08:12 UTC`: every time the service writes is UTC. */
const TIME = /\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|\+00:00)?(?: UTC)?/g;

/** Each time in the text as `3m ago (2026-12-07 08:12 UTC)`, or `in 2h (…)`. */
export function withTimes(text: string, now: Date): string {
  return text.replace(TIME, (whole, day: string, minute: string) => {
    const at = Date.parse(`${day}T${whole.slice(11).match(/^\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?/)?.[0] ?? minute}Z`);
    if (!Number.isFinite(at)) return whole;
    return `${relative(at - now.getTime())} (${day} ${minute} UTC)`;
  });
}

/** kubectl's ages: `45s`, `3m`, `5h`, `12d`; `ago` for the past, `in` for the future. */
export function relative(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 5) return 'now';
  const amount = s < 120 ? `${s}s` : s < 120 * 60 ? `${Math.floor(s / 60)}m` : s < 48 * 3600 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
  return ms < 0 ? `${amount} ago` : `in ${amount}`;
}

function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
