import { lookup as dnsLookup } from 'node:dns/promises';
import net, { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../../errors/index.js';

/** An address a database host name resolved to, checked. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/**
 * The ranges a database connection may not reach unless MASS_ALLOW_LOCAL_DATABASES is set: the
 * Mass host itself (loopback, unspecified, which Linux and macOS route to the host) and the
 * link-local networks, where clouds serve instance metadata and credentials (169.254.169.254).
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: databases live there.
 */
const LOCAL_RANGES: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
};

/** Why a database may not be reached at this IP address, or undefined when it may. */
export function localAddressRefusal(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  const ip = ipaddr.parse(address);
  const own = LOCAL_RANGES[ip.range()];
  if (own) return `is a ${own} address`;
  if (ip.kind() === 'ipv6') {
    // ::ffff:127.0.0.1 (and the other forms carrying an IPv4 address) reach that IPv4 host.
    const v4 = embeddedIPv4(ip as ipaddr.IPv6);
    const inner = v4 ? LOCAL_RANGES[v4.range()] : undefined;
    if (v4 && inner) return `carries the ${inner} IPv4 address ${v4.toString()}`;
  }
  return undefined;
}

/**
 * The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::) address.
 */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  const range = ip.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return v4(p[6]!, p[7]!);
  // NAT64's well-known prefix 64:ff9b::/96 (where the address sits in the local-use /48 depends
  // on the prefix length the operator chose).
  if (range === 'rfc6052' && p[1] === 0xff9b && zero(2, 6)) return v4(p[6]!, p[7]!);
  if (range === '6to4') return v4(p[1]!, p[2]!);
  if (zero(0, 6)) return v4(p[6]!, p[7]!);
  return undefined;
}

function refused(host: string, address: string, why: string): AppError {
  const detail =
    host === address
      ? `${host} ${why}; database connections to loopback, link-local and unspecified addresses are refused (MASS_ALLOW_LOCAL_DATABASES)`
      : `${host} resolves to ${address}, which ${why}; database connections to loopback, link-local and unspecified addresses are refused (MASS_ALLOW_LOCAL_DATABASES)`;
  return new AppError('VALIDATION_FAILED', `host: ${detail}`, [{ path: 'host', message: detail }]);
}

/** Resolves a host name to every address, of any family, as the drivers would. */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Resolves a database host (within `timeoutMs`) and checks every address it resolves to. Returns
 * the checked addresses, or undefined when the name does not resolve (now); throws a 400 naming `host` when
 * any address is loopback, link-local or unspecified. A literal address is checked as it is.
 */
export async function checkDatabaseHost(
  host: string,
  options: { readonly resolve?: HostResolver | undefined; readonly timeoutMs: number },
): Promise<ResolvedAddress[] | undefined> {
  let addresses: ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    let timer: NodeJS.Timeout | undefined;
    try {
      addresses = await Promise.race([
        (options.resolve ?? systemResolver)(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('DNS timeout')), options.timeoutMs);
        }),
      ]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
  if (addresses.length === 0) return undefined;
  for (const a of addresses) {
    const why = localAddressRefusal(a.address);
    if (why) throw refused(host, a.address, why);
  }
  return addresses;
}

/**
 * A `lookup` that answers with the checked addresses whatever DNS says now, so that the name
 * cannot resolve elsewhere between the check and the connection (DNS rebinding). The drivers keep
 * the host name for TLS (server name and certificate check).
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [...addresses]);
    else {
      const family = (options as { family?: number | string }).family;
      const wanted = family === 6 || family === 'IPv6' ? 6 : family === 4 || family === 'IPv4' ? 4 : 0;
      const first = addresses.find((a) => wanted === 0 || a.family === wanted) ?? addresses[0]!;
      callback(null, first.address, first.family);
    }
  };
}

/**
 * A TCP socket whose `connect(port, host)` resolves `host` through `lookup`: node-postgres calls
 * `stream.connect(port, host)` on the socket it is given.
 */
export function pinnedSocket(lookup: LookupFunction): net.Socket {
  const socket = new net.Socket();
  const connect = socket.connect.bind(socket) as (options: net.TcpSocketConnectOpts) => net.Socket;
  (socket as { connect: unknown }).connect = (port: number, host: string) => connect({ port, host, lookup });
  return socket;
}
