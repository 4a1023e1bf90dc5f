import { randomBytes } from 'node:crypto';

/**
 * Only the mentions the service writes are live in Slack. People's text — a `--reason`, a
 * mistyped word echoed in an error, a tag value — may hold `<@U0VICTIM>` (Slack sends a typed
 * `<` as `&lt;`, which the grammar decodes), and Slack's mrkdwn would ping whoever it names.
 * So every `&`, `<` and `>` in a reply is escaped when rendered for Slack
 * (https://docs.slack.dev/messaging/formatting-message-text#escaping), and a mention is live
 * only when the service wrote it with `mention()`: a marker no data can contain — private-use
 * characters around a per-process random nonce — that `render.ts` turns into `<@U…>` after
 * escaping. In plain text (the CLI, Amazon Q, the audit trail) a marker reads `<@U…>`.
 */
const NONCE = randomBytes(6).toString('hex');
const OPEN = `\uE000${NONCE}`;
const CLOSE = '\uE001';
const MARKER = new RegExp(`${OPEN}([UW][A-Z0-9]+)${CLOSE}`, 'g');
const SLACK_USER = /^[UW][A-Z0-9]+$/;

/** A live mention of a Slack user, for the service's own words ("requested by …"). */
export function mention(userId: string): string {
  return SLACK_USER.test(userId) ? `${OPEN}${userId}${CLOSE}` : userId;
}

/**
 * Who a principal is, as messages name them: a Slack user (`slack:<team>:<user>`) as a live
 * mention; else its display (`direct invocation (Amazon Q Developer)`), an IAM caller's ARN,
 * `automatic detection`, or the id.
 */
export function principalMention(principal: { id: string; display?: string | undefined }): string {
  const slack = /^slack:[^:]+:([UW][A-Z0-9]+)$/.exec(principal.id);
  if (slack) return mention(slack[1]!);
  if (principal.display) return principal.display;
  if (principal.id.startsWith('iam:')) return principal.id.slice(4);
  if (principal.id === 'detection') return 'automatic detection';
  return principal.id;
}

/** The service's mentions as plain text, `<@U…>`: for text renderings and what is stored. */
export function mentionsAsText(text: string): string {
  return text.replace(MARKER, '<@$1>');
}

/** Text escaped for Slack mrkdwn (`&`, `<`, `>`), with the service's own mentions made live. */
export function escapeForSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replace(MARKER, '<@$1>');
}
