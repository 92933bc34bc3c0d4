import dns from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/**
 * Addresses a webhook may not be sent to unless WEBHOOK_ALLOW_PRIVATE is set. A caller's notifyUrl
 * must not turn the workers into a probe of the network they run in (issue 12, item 6).
 *
 * IPv4 and IPv6 ranges are kept apart: a BlockList holding an IPv6 rule such as ::ffff:0:0/96 also
 * matches every IPv4 address checked against it (Node maps them), which refused every IPv4 receiver.
 */
const PRIVATE_IPV4 = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], ['240.0.0.0', 4] // multicast, reserved and broadcast
] as const) PRIVATE_IPV4.addSubnet(network, prefix, 'ipv4')

const PRIVATE_IPV6 = new BlockList()
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible addresses
  ['::ffff:0:0', 96], // IPv4-mapped: an IPv4 address, private or not, dressed as IPv6
  ['64:ff9b::', 96], ['64:ff9b:1::', 48], // NAT64: the gateway translates them to any IPv4 address
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8] // multicast
] as const) PRIVATE_IPV6.addSubnet(network, prefix, 'ipv6')

/** Why a webhook was not sent (recorded on its attempt): the same whatever listens at that address. */
export const REFUSAL = Object.freeze({
  PRIVATE: 'the host is a private, loopback or link-local address (set WEBHOOK_ALLOW_PRIVATE to allow)',
  UNRESOLVED: 'the host does not resolve'
} as const)

/** Thrown by the pinned lookup, before any connection is made: the destination is refused. */
export class RefusedDestinationError extends Error {
  readonly code = 'EDESTINATIONREFUSED'
  readonly reason: string
  constructor (reason: string) {
    super(`webhook destination refused: ${reason}`)
    this.name = 'RefusedDestinationError'
    this.reason = reason
  }
}

/** Whether an IP address (v4 or v6, without brackets) is one webhooks are refused. */
export function isPrivateAddress (address: string): boolean {
  const family = isIP(address)
  if (family === 4) return PRIVATE_IPV4.check(address, 'ipv4')
  if (family === 6) return PRIVATE_IPV6.check(address, 'ipv6')
  return true
}

/** The hostname of a URL as an IP address when it is one (brackets removed), else null. */
function literalAddress (url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return isIP(host) !== 0 ? host : null
}

/**
 * Why `url` may not be sent to, as far as can be told without resolving it: its host is a private
 * IP address. A name is checked by the lookup the connection itself uses (pinnedLookup).
 */
export function refusedLiteral (url: URL, allowPrivate: boolean): string | null {
  if (allowPrivate) return null
  const literal = literalAddress(url)
  return literal !== null && isPrivateAddress(literal) ? REFUSAL.PRIVATE : null
}

/**
 * The `lookup` of a webhook's connection: resolves the host once, refuses it when any address it
 * resolves to is private, and otherwise hands the connection exactly the addresses it checked. The
 * check and the connection share one resolution, so a DNS server answering a public address first
 * and a private one next (DNS rebinding) gets nowhere. Undefined when private addresses are allowed.
 */
export function pinnedLookup (allowPrivate: boolean): LookupFunction | undefined {
  if (allowPrivate) return undefined
  return (hostname, options, callback) => {
    // dns.lookup read at the call, so that the process's resolver (as tests replace it) is used.
    dns.lookup(hostname, { all: true, verbatim: true, family: options.family ?? 0 }, (error, addresses) => {
      if (error !== null) {
        callback(error, '', 0)
      } else if (addresses.length === 0 || addresses.some(({ address }) => isPrivateAddress(address))) {
        callback(new RefusedDestinationError(REFUSAL.PRIVATE), '', 0)
      } else if (options.all === true) {
        callback(null, addresses)
      } else {
        callback(null, addresses[0]!.address, addresses[0]!.family)
      }
    })
  }
}
