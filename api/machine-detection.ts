// Which opens and clicks a person made, and which a machine made on their behalf. Branching,
// scoring and A/B results rest on human engagement, so a false "human" costs more than a
// false "machine". The rules, in the order they are tried:
//
// Opens
//   no_user_agent           the request carries no User-Agent at all
//   apple_mpp               Apple Mail Privacy Protection: the bare user agent "Mozilla/5.0" (Apple's
//                           proxy sends nothing more), or any request from Apple's 17.0.0.0/8 network
//   image_proxy:<name>      a provider's image proxy fetching on the reader's behalf (often on receipt):
//                           "GoogleImageProxy", "YahooMailProxy", "ggpht.com"
//   scanner:<name>          a security scanner or script (the click list below)
//   too_soon_after_send     fetched within 2 seconds of the send being accepted by SMTP
// Outlook ("Microsoft Office/…", "Microsoft Outlook") is a real client rendering the message for
// its reader, so it counts as human.
//
// Clicks
//   no_user_agent           as above
//   scanner:<name>          link scanners and scripts: Barracuda, Proofpoint, Mimecast, Microsoft
//                           Safe Links ("SafeLinks"), Symantec, Forcepoint, Trend Micro, Sophos,
//                           python-requests, curl, Wget, Go-http-client, Java/, libwww-perl,
//                           HeadlessChrome, and any agent naming itself a bot, spider or crawler
//   apple_network           a click from Apple's 17.0.0.0/8 (link previews)
//   too_soon_after_send     within `clickWindowSeconds` (default 10) of the send: faster than a person reads
//   honeypot_link           the link index is one the template marked invisible to people
export interface EngagementContext {
  userAgent: string | undefined;
  ip: string | undefined;
  sentAt: Date | null;
  now: Date;
}

export interface MachineVerdict {
  machine: boolean;
  reason: string | null;
}

const HUMAN: MachineVerdict = { machine: false, reason: null };
const machine = (reason: string): MachineVerdict => ({ machine: true, reason });

const IMAGE_PROXIES: [RegExp, string][] = [
  [/GoogleImageProxy|ggpht\.com/i, 'gmail'],
  [/YahooMailProxy/i, 'yahoo'],
];

const SCANNERS: [RegExp, string][] = [
  [/barracuda/i, 'barracuda'],
  [/proofpoint/i, 'proofpoint'],
  [/mimecast/i, 'mimecast'],
  [/safelinks/i, 'microsoft_safelinks'],
  [/symantec/i, 'symantec'],
  [/forcepoint/i, 'forcepoint'],
  [/trend ?micro/i, 'trendmicro'],
  [/sophos/i, 'sophos'],
  [/python-requests|python-urllib|aiohttp/i, 'python'],
  [/^curl\//i, 'curl'],
  [/^wget\//i, 'wget'],
  [/go-http-client/i, 'go'],
  [/^java\//i, 'java'],
  [/libwww-perl/i, 'perl'],
  [/headlesschrome/i, 'headless_chrome'],
  [/\b(bot|spider|crawler)\b|bot\//i, 'bot'],
];

export const OPEN_WINDOW_SECONDS = 2;
export const DEFAULT_CLICK_WINDOW_SECONDS = 10;

/** 17.0.0.0/8, also written as an IPv4-mapped IPv6 address. */
export function isAppleAddress(ip: string | undefined): boolean {
  return !!ip && /^(::ffff:)?17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(ip);
}

function secondsSinceSend(context: EngagementContext): number | undefined {
  return context.sentAt ? (context.now.getTime() - context.sentAt.getTime()) / 1000 : undefined;
}

function scanner(userAgent: string): string | undefined {
  return SCANNERS.find(([pattern]) => pattern.test(userAgent))?.[1];
}

export function classifyOpen(context: EngagementContext): MachineVerdict {
  const agent = context.userAgent?.trim() ?? '';
  if (!agent) return machine('no_user_agent');
  if (agent === 'Mozilla/5.0' || isAppleAddress(context.ip)) return machine('apple_mpp');
  const proxy = IMAGE_PROXIES.find(([pattern]) => pattern.test(agent))?.[1];
  if (proxy) return machine(`image_proxy:${proxy}`);
  const bot = scanner(agent);
  if (bot) return machine(`scanner:${bot}`);
  const elapsed = secondsSinceSend(context);
  if (elapsed !== undefined && elapsed < OPEN_WINDOW_SECONDS) return machine('too_soon_after_send');
  return HUMAN;
}

export function classifyClick(
  context: EngagementContext & { linkIndex: number; honeypotLinks?: number[]; clickWindowSeconds?: number },
): MachineVerdict {
  const agent = context.userAgent?.trim() ?? '';
  if (!agent) return machine('no_user_agent');
  const bot = scanner(agent);
  if (bot) return machine(`scanner:${bot}`);
  if (isAppleAddress(context.ip)) return machine('apple_network');
  const elapsed = secondsSinceSend(context);
  if (elapsed !== undefined && elapsed < (context.clickWindowSeconds ?? DEFAULT_CLICK_WINDOW_SECONDS)) return machine('too_soon_after_send');
  if (context.honeypotLinks?.includes(context.linkIndex)) return machine('honeypot_link');
  return HUMAN;
}
