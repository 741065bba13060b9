// Where webhooks may go. A subscriber's URL is chosen by whoever holds an API key: without a
// filter, the operator would POST (and record the outcome of POSTing) to loopback, cloud metadata
// (169.254.169.254), the cluster's Services and the API server — a port scanner with the
// operator's network position. Addresses in the blocked ranges are refused unless an explicit
// allow list (--webhook-allow-cidrs) covers them. The shim checks what a URL says at subscription
// time; the operator checks every resolved address at delivery (names can change) and connects to
// the address it checked. Pure, but for node:net's address parsing.
import { BlockList, isIP } from 'node:net';

/** What a refused delivery records: nothing about the internal host beyond this. */
export const REFUSED_BLOCKED = 'refused: address in a blocked range';

/** Not reachable by webhooks unless allowed: private, loopback, link-local, and other non-public ranges. */
export const BLOCKED_CIDRS = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT, often a cluster's Pod or Service range
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local: cloud metadata
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the broadcast address
  '::/128',
  '::1/128',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'ff00::/8', // multicast
] as const;

/** Host names that name the cluster or this machine, never a subscriber on the internet. */
const INTERNAL_NAME = /(^localhost$|\.localhost$|\.svc$|\.cluster\.local$|\.internal$|\.local$)/;

function addCidr(list: BlockList, cidr: string): void {
  const slash = cidr.lastIndexOf('/');
  const address = cidr.slice(0, slash);
  const prefix = Number(cidr.slice(slash + 1));
  const family = isIP(address);
  if (
    slash < 0 ||
    family === 0 ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > (family === 4 ? 32 : 128)
  )
    throw new TypeError(`"${cidr}" is not a CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether `cidr` is an IPv4 or IPv6 CIDR such as 10.1.0.0/16. */
export function isCidr(cidr: string): boolean {
  try {
    addCidr(new BlockList(), cidr);
    return true;
  } catch {
    return false;
  }
}

const BLOCKED = new BlockList();
for (const cidr of BLOCKED_CIDRS) addCidr(BLOCKED, cidr);

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:127.0.0.1, ::ffff:7f00:1), if it is one. */
function ipv4Mapped(ip: string): string | undefined {
  const m = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(.+)$/i.exec(ip)?.[1];
  if (m === undefined || isIP(ip) !== 6) return undefined;
  if (isIP(m) === 4) return m;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(m);
  if (!hex) return undefined;
  const [hi, lo] = [Number.parseInt(hex[1] ?? '', 16), Number.parseInt(hex[2] ?? '', 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The rules of one operator or shim: the blocked ranges, minus what `allowCidrs` lets through. */
export class WebhookTargets {
  private readonly allowed = new BlockList();

  constructor(allowCidrs: readonly string[] = []) {
    for (const cidr of allowCidrs) addCidr(this.allowed, cidr);
  }

  /** Whether a webhook may be sent to this IP address (an IPv4-mapped IPv6 address counts as IPv4). */
  allows(address: string): boolean {
    const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const ip = ipv4Mapped(plain) ?? plain;
    const family = isIP(ip);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(ip, type)) return true;
    // Mapped and compatible forms of blocked IPv4 addresses are blocked too.
    if (type === 'ipv6' && /^(::ffff:0:|64:ff9b::)/i.test(ip)) return false;
    return !BLOCKED.check(ip, type);
  }

  /**
   * Why a subscription's URL is refused, or undefined: a literal address in a blocked range, or a
   * name that is obviously internal (localhost, *.svc, *.cluster.local, no dot at all). Names that
   * merely resolve to such addresses are caught at delivery, where they are resolved.
   */
  urlProblem(url: string): string | undefined {
    const parsed = URL.parse(url);
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      return 'not an http or https URL';
    // WHATWG URLs normalise numeric hosts (http://2130706433/ is http://127.0.0.1/).
    const host = parsed.hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
    if (isIP(host) !== 0)
      return this.allows(host)
        ? undefined
        : `${host} is in a blocked range (private, loopback or link-local)`;
    if (!host.includes('.') || INTERNAL_NAME.test(host))
      return `${host} names a host inside the cluster or this machine, not a public one`;
    return undefined;
  }
}
