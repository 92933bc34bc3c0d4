import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Addresses a webhook may not be sent to unless WEBHOOK_ALLOW_PRIVATE is set: loopback, private,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unspecified, multicast and
 * their IPv6 counterparts. A caller's notifyUrl must not turn the workers into a probe of the
 * network they run in.
 */
const PRIVATE = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) PRIVATE.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96]] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6')
}

/**
 * Why `url` may not be sent to, or null. Every address the host resolves to is checked (a name
 * that resolves to one public and one private address is refused). The check and the connection
 * resolve separately, so a DNS server answering differently the second time could still slip
 * through; a proxy that enforces the same ranges closes that gap where it matters.
 */
export async function refusedDestination (url: string, allowPrivate: boolean): Promise<string | null> {
  if (allowPrivate) return null
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  let addresses: Array<{ address: string, family: number }>
  try {
    addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true })
  } catch {
    return 'the host does not resolve'
  }
  const blocked = addresses.find(({ address, family }) => PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4'))
  return blocked ? 'the host is a private, loopback or link-local address (set WEBHOOK_ALLOW_PRIVATE to allow)' : null
}
