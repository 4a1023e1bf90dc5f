import { escapeForSlack, mentionsAsText } from './mentions.js';
import type { Button, HeaderBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import type { Reply, ReplyAction, ReplySection, SlackMessage } from './types.js';

/**
 * One reply, two renderings: plain text (the CLI, Amazon Q Developer in chat applications,
 * Slack's notification `text`) and Slack Block Kit. Both are pure and deterministic, so a
 * person reading the CLI and a person reading Slack see the same words in the same order.
 *
 * Slack's limits are enforced here rather than trusted to the callers: a message Slack
 * rejects (`invalid_blocks`) tells nobody anything, and an event reply can carry any data.
 */

/** Slack's limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  messageText: 40_000,
} as const;

const BAR_CELLS = 10;
const ELLIPSIS = '…';

// ---------------------------------------------------------------------------------------
// Plain text
// ---------------------------------------------------------------------------------------

/**
 * The reply as plain text: title, then each section (heading, content) separated by a blank
 * line, each action as the typed command that does the same, the context last. Slack's
 * fallback text is this too, so a notification reads like the CLI's answer.
 */
export function toText(reply: Reply): string {
  return mentionsAsText(plainText(reply));
}

/** `toText` with the service's mentions still marked, for Slack's `text` to make them live. */
function plainText(reply: Reply): string {
  const blocks: string[][] = [[reply.title]];
  for (const section of reply.sections) {
    const body = sectionText(section);
    if (body.length > 0) blocks.push(body);
  }
  const actions = (reply.actions ?? []).map(actionText);
  if (actions.length > 0) blocks.push(actions);
  if (reply.context?.trim()) blocks.push([reply.context]);
  return joinBlocks(blocks);
}

/** Blocks of lines, a blank line between them, no line ending in spaces. */
export function joinBlocks(blocks: readonly (readonly string[])[]): string {
  return blocks
    .map((lines) => lines.join('\n'))
    .join('\n\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

function sectionText(section: ReplySection): string[] {
  const heading = 'heading' in section && section.heading ? [section.heading] : [];
  switch (section.kind) {
    case 'text':
      return [...heading, ...section.lines];
    case 'fields':
      return [...heading, ...section.fields.map(([label, value]) => `${label}: ${value}`)];
    case 'table':
      return [...heading, ...alignTable(section.columns, section.rows)];
    case 'progress':
      return [progressBar(section.done, section.total, section.label)];
  }
}

/** `To approve: approve apr-abc` — the command a person types to do what the button does. */
export function actionText(action: ReplyAction): string {
  const label = action.label.trim();
  const verb = label ? label.charAt(0).toLowerCase() + label.slice(1) : action.actionId;
  return `To ${verb}: ${action.command}`;
}

/**
 * Columns padded with spaces to the widest cell, the header row first; the last column is
 * not padded, so no line ends in spaces. Rows shorter than the header get empty cells.
 */
export function alignTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const count = Math.max(columns.length, ...rows.map((r) => r.length));
  const cell = (row: readonly string[], i: number) => oneLine(row[i] ?? '');
  const all = [columns, ...rows];
  const widths = Array.from({ length: count }, (_, i) => Math.max(...all.map((row) => cell(row, i).length)));
  return all.map((row) =>
    Array.from({ length: count }, (_, i) => (i === count - 1 ? cell(row, i) : cell(row, i).padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * `▰▰▰▱▱▱▱▱▱▱ 3/10 batches`: cells rounded down, so the bar is full only when everything is
 * done. Bad numbers are clamped (negative, NaN, done beyond total) rather than drawn wrong.
 */
export function progressBar(done: number, total: number, label: string): string {
  const t = Number.isFinite(total) && total > 0 ? Math.floor(total) : 0;
  const d = Number.isFinite(done) ? Math.min(Math.max(Math.floor(done), 0), t) : 0;
  const filled = t === 0 ? 0 : Math.floor((d / t) * BAR_CELLS);
  return `${'▰'.repeat(filled)}${'▱'.repeat(BAR_CELLS - filled)} ${d}/${t}${label ? ` ${label}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Slack Block Kit
// ---------------------------------------------------------------------------------------

/** Block Kit, typed by Slack's own definitions (types only: nothing of @slack/types is bundled). */
type Block = KnownBlock;

/**
 * The reply as a Slack message: a header for the title, one block per section, the
 * actions as buttons (each carrying only its approval id), the context last; `text` is
 * `toText` escaped for Slack, so notifications and screen readers say what the CLI says.
 * Never more than Slack accepts: sections past the block limit are replaced by a
 * "…N more" note (the buttons and the context are kept), long texts end in `…`.
 */
export function toSlackMessage(reply: Reply): SlackMessage {
  const head: Block[] = [headerBlock(reply.title)];
  const body = reply.sections.flatMap(sectionBlocks);
  const tail: Block[] = [];
  const buttons = (reply.actions ?? []).slice(0, SLACK_LIMITS.actionsElements).map(button);
  if (buttons.length > 0) tail.push({ type: 'actions', elements: buttons });
  if (reply.context?.trim()) tail.push({ type: 'context', elements: [mrkdwn(truncate(escapeMrkdwn(reply.context), SLACK_LIMITS.contextText))] });

  const room = SLACK_LIMITS.blocks - head.length - tail.length;
  const shown = body.length <= room ? body : [...body.slice(0, room - 1), section(`${ELLIPSIS}${body.length - (room - 1)} more not shown`)];
  return {
    text: truncate(escapeMrkdwn(plainText(reply)), SLACK_LIMITS.messageText),
    blocks: [...head, ...shown, ...tail],
  };
}

/**
 * Slack's escaping for mrkdwn and `text`: `&`, `<` and `>` as entities, so data — and what
 * people typed — can never become a link, a `<@U…>` or `<!channel>` ping or a broken message.
 * The one markup kept is the service's own mentions (`mention()` in mentions.ts).
 */
export function escapeMrkdwn(text: string): string {
  return escapeForSlack(text);
}

function headerBlock(title: string): HeaderBlock {
  // plain_text is shown as written (no entities, no mentions); a header holds one line
  const text = truncate(oneLine(mentionsAsText(title)).trim(), SLACK_LIMITS.headerText) || ELLIPSIS;
  return { type: 'header', text: { type: 'plain_text', text, emoji: true } };
}

function sectionBlocks(s: ReplySection): Block[] {
  const heading = 'heading' in s && s.heading ? `*${escapeMrkdwn(oneLine(s.heading))}*` : null;
  switch (s.kind) {
    case 'text':
      return textSections(heading, s.lines.map(escapeMrkdwn));
    case 'fields': {
      const fields = s.fields.map(([label, value]) => mrkdwn(truncate(`*${escapeMrkdwn(oneLine(label))}*\n${escapeMrkdwn(value)}`, SLACK_LIMITS.fieldText)));
      if (fields.length === 0) return heading ? [section(heading)] : [];
      const blocks: Block[] = [];
      for (let i = 0; i < fields.length; i += SLACK_LIMITS.sectionFields) {
        blocks.push({ type: 'section', ...(i === 0 && heading ? { text: mrkdwn(truncate(heading, SLACK_LIMITS.sectionText)) } : {}), fields: fields.slice(i, i + SLACK_LIMITS.sectionFields) });
      }
      return blocks;
    }
    case 'table':
      return [section(codeBlock(heading, alignTable(s.columns, s.rows).map(escapeMrkdwn)))];
    case 'progress':
      return [section(escapeMrkdwn(progressBar(s.done, s.total, oneLine(s.label))))];
  }
}

/** Lines into as few sections as fit Slack's 3000 characters, split between lines. */
function textSections(heading: string | null, lines: readonly string[]): Block[] {
  const chunks: string[] = [];
  let current = heading ?? '';
  let empty = heading === null;
  for (const line of lines) {
    const joined = empty ? line : `${current}\n${line}`;
    if (joined.length <= SLACK_LIMITS.sectionText) {
      current = joined;
      empty = false;
      continue;
    }
    if (!empty) chunks.push(current);
    current = truncate(line, SLACK_LIMITS.sectionText);
    empty = false;
  }
  if (!empty) chunks.push(current);
  // Slack refuses a section without text
  return chunks.filter((c) => c.trim() !== '').map(section);
}

/** A table as ``` monospace ```, the rows that do not fit replaced by a count. */
function codeBlock(heading: string | null, lines: readonly string[]): string {
  const prefix = heading ? `${heading}\n` : '';
  const fence = '```';
  const budget = SLACK_LIMITS.sectionText - prefix.length - 2 * fence.length;
  const more = (n: number) => `${ELLIPSIS}${n} more ${n === 1 ? 'row' : 'rows'}`;
  const kept: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const after = lines.length - i - 1;
    // room is kept for the note that would follow if the next line does not fit
    const reserve = after > 0 ? 1 + more(after).length : 0;
    const cost = (kept.length > 0 ? 1 : 0) + line.length;
    if (length + cost + reserve <= budget) {
      kept.push(line);
      length += cost;
      continue;
    }
    if (kept.length === 0) {
      // not even the header row fits: cut it rather than show nothing
      kept.push(truncate(line, budget - reserve));
      if (after > 0) kept.push(more(after));
    } else {
      kept.push(more(lines.length - i));
    }
    break;
  }
  return `${prefix}${fence}${kept.join('\n') || ' '}${fence}`;
}

function button(action: ReplyAction): Button {
  return {
    type: 'button',
    action_id: action.actionId,
    text: { type: 'plain_text', text: truncate(oneLine(action.label), SLACK_LIMITS.buttonText) || action.actionId, emoji: true },
    value: action.value.slice(0, SLACK_LIMITS.buttonValue),
    ...(action.style ? { style: action.style } : {}),
    ...(action.actionId === 'deny'
      ? {
          confirm: {
            title: { type: 'plain_text', text: 'Deny this approval?' },
            text: { type: 'plain_text', text: 'The rollout waiting for it ends without changing anything.' },
            confirm: { type: 'plain_text', text: 'Deny' },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        }
      : {}),
  };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(truncate(text, SLACK_LIMITS.sectionText)) };
}

function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text: text === '' ? ' ' : text };
}

/**
 * At most `max` UTF-16 units, ending in `…` when cut; never splits a surrogate pair or an
 * escaped entity (`&amp;`), which Slack would show half-decoded.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  return `${cut}${ELLIPSIS}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
