/**
 * Which resolved IP addresses an outgoing fetch may connect to (the SSRF guard):
 * loopback, private, link-local, CGNAT, multicast and reserved ranges are refused
 * unless the operator allowlists them.
 */
import { BlockList, isIP } from "node:net";

function buildDenied(): BlockList {
  const list = new BlockList();
  const v4: [string, number][] = [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 3],
  ];
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, "ipv4");
  const v6: [string, number][] = [
    ["::", 128],
    ["::1", 128],
    ["64:ff9b::", 96],
    ["100::", 64],
    ["2001:db8::", 32],
    ["fc00::", 7],
    ["fe80::", 10],
    ["ff00::", 8],
  ];
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, "ipv6");
  return list;
}

const DENIED = buildDenied();

export class AddressPolicy {
  private readonly allowed = new BlockList();

  /** `allow`: addresses or CIDRs (e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`) that are reachable anyway. */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const [address, prefixText] = entry.split("/");
      const family = isIP(address ?? "");
      if (family === 0) throw new RangeError(`not an IP address or CIDR: ${entry}`);
      const type = family === 6 ? "ipv6" : "ipv4";
      if (prefixText === undefined) this.allowed.addAddress(address!, type);
      else this.allowed.addSubnet(address!, Number(prefixText), type);
    }
  }

  isAllowed(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.allowed.check(address, type)) return true;
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.isAllowed(mapped[1]!);
    return !DENIED.check(address, type);
  }
}
