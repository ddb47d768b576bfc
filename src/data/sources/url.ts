import { lookup as dnsLookup } from 'node:dns/promises';
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError, invalid } from '../../errors/index.js';

export interface UrlPolicy {
  /** Private, loopback, link-local and other internal addresses allowed (MASS_ALLOW_PRIVATE_URLS). */
  readonly allowPrivate: boolean;
  /** Host names allowed whatever they resolve to (MASS_URL_ALLOW_HOSTS), lower case. */
  readonly allowHosts: readonly string[];
}

export interface FetchLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects?: number;
}

export interface FetchResult {
  readonly url: string;
  readonly finalUrl: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly bytes: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
}

function notAllowed(detail: string): AppError {
  return new AppError('URL_NOT_ALLOWED', detail, [{ path: 'url', message: detail }]);
}

/** Why an address may not be fetched, or undefined when it is a public unicast address. */
export function addressRefusal(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  let ip = ipaddr.parse(address);
  // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d: judge that one.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  return range === 'unicast' ? undefined : `is a ${range} address`;
}

/**
 * Parses a URL for import and refuses what can be refused without the network: other schemes,
 * credentials in the URL, and literal internal addresses (the WHATWG parser has already turned
 * decimal, octal and hex IPv4 forms like http://2130706433/ into 127.0.0.1).
 */
export function checkUrl(raw: string, policy: UrlPolicy, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(field, 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AppError(
      'URL_NOT_ALLOWED',
      `${field}: only http and https URLs can be imported, not ${url.protocol}`,
      [{ path: field, message: 'only http and https' }],
    );
  if (url.username || url.password)
    throw invalid(field, 'must not carry a user name or password (they would be stored with the dataset)');
  const host = bareHost(url);
  if (!policy.allowPrivate && !policy.allowHosts.includes(host) && isIP(host)) {
    const why = addressRefusal(host);
    if (why)
      throw notAllowed(
        `${field}: ${host} ${why}; private and internal addresses are refused (MASS_ALLOW_PRIVATE_URLS)`,
      );
  }
  return url;
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * Resolves the host once and checks every address; the connection then goes to the checked
 * address (a custom lookup), so DNS cannot answer differently between the check and the connect.
 */
async function resolveChecked(url: URL, policy: UrlPolicy): Promise<{ address: string; family: number }> {
  const host = bareHost(url);
  const trusted = policy.allowPrivate || policy.allowHosts.includes(host);
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await dnsLookup(host, { all: true, verbatim: true });
    } catch (error) {
      throw new AppError(
        'URL_FETCH_FAILED',
        `cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? 'DNS error'}`,
      );
    }
  }
  if (addresses.length === 0) throw new AppError('URL_FETCH_FAILED', `${host} has no address`);
  if (!trusted) {
    for (const a of addresses) {
      const why = addressRefusal(a.address);
      if (why)
        throw notAllowed(
          `${host} resolves to ${a.address}, which ${why}; private and internal addresses are refused (MASS_ALLOW_PRIVATE_URLS)`,
        );
    }
  }
  return addresses[0]!;
}

/**
 * Streams an http(s) URL into a new file: redirects followed at most `maxRedirects` times (3), each
 * hop checked again; the whole download within `timeoutMs`; at most `maxBytes`. The file is left
 * for the caller to delete, also on failure.
 */
export async function fetchToFile(
  rawUrl: string,
  out: string,
  policy: UrlPolicy,
  limits: FetchLimits,
  signal: AbortSignal,
  onBytes: (bytes: number, total: number | null) => void = () => undefined,
): Promise<FetchResult> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const both = AbortSignal.any([signal, deadline]);
  const file = await open(out, 'wx', 0o600);
  try {
    let url = checkUrl(rawUrl, policy);
    for (let hop = 0; ; hop++) {
      const target = await resolveChecked(url, policy);
      const response = await request(url, target, both);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.destroy();
        if (hop >= (limits.maxRedirects ?? 3))
          throw new AppError('URL_FETCH_FAILED', `more than ${limits.maxRedirects ?? 3} redirects`);
        let next: URL;
        try {
          next = new URL(response.headers.location, url);
        } catch {
          throw new AppError('URL_FETCH_FAILED', 'a redirect to an invalid URL');
        }
        url = checkUrl(next.toString(), policy, 'url (redirect)');
        continue;
      }
      if (status < 200 || status >= 300) {
        response.destroy();
        throw new AppError(
          'URL_FETCH_FAILED',
          `the server answered ${status} ${response.statusMessage ?? ''}`.trim(),
        );
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        response.destroy();
        throw new AppError(
          'SOURCE_TOO_LARGE',
          `the file is ${declared} bytes, more than the limit of ${limits.maxBytes} bytes`,
        );
      }
      const bytes = await copyTo(response, file, limits.maxBytes, both, (n) =>
        onBytes(n, Number.isFinite(declared) ? declared : null),
      );
      await file.sync();
      const header = (name: string) => {
        const v = response.headers[name];
        return typeof v === 'string' ? v : null;
      };
      return {
        url: rawUrl,
        finalUrl: url.toString(),
        status,
        contentType: header('content-type'),
        bytes,
        etag: header('etag'),
        lastModified: header('last-modified'),
      };
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    if (deadline.aborted)
      throw new AppError(
        'SOURCE_TIMEOUT',
        `the download took longer than the time limit of ${limits.timeoutMs / 1000} s`,
      );
    if (error instanceof AppError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError(
      'URL_FETCH_FAILED',
      `the download failed: ${(error as Error).message}${code ? ` (${code})` : ''}`,
    );
  } finally {
    await file.close().catch(() => undefined);
  }
}

function request(
  url: URL,
  target: { address: string; family: number },
  signal: AbortSignal,
): Promise<http.IncomingMessage> {
  // Connect to the address that was checked, whatever DNS says now; TLS still verifies the host name.
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: 'GET',
      lookup,
      signal,
      agent: false,
      headers: { 'user-agent': 'mass-import', accept: '*/*', 'accept-encoding': 'identity' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

async function copyTo(
  response: http.IncomingMessage,
  file: FileHandle,
  maxBytes: number,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<number> {
  let bytes = 0;
  let last = 0;
  try {
    for await (const chunk of response) {
      signal.throwIfAborted();
      const piece = chunk as Buffer;
      bytes += piece.byteLength;
      if (bytes > maxBytes)
        throw new AppError(
          'SOURCE_TOO_LARGE',
          `the file is larger than the limit of ${maxBytes} bytes (MASS_MAX_UPLOAD_BYTES)`,
        );
      await file.write(piece);
      if (bytes - last > 1 << 20) {
        last = bytes;
        onBytes(bytes);
      }
    }
  } finally {
    response.destroy();
  }
  if (!response.complete)
    throw new AppError('URL_FETCH_FAILED', 'the connection closed before the whole file arrived');
  return bytes;
}

/** The file format from an explicit choice, the Content-Type, or the URL's extension. */
export function detectFormat(
  explicit: string | undefined,
  contentType: string | null,
  url: string,
): 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet' | 'xlsx' {
  if (explicit) return explicit as 'csv';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const byType: Record<string, 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet' | 'xlsx'> = {
    'text/csv': 'csv',
    'application/csv': 'csv',
    'text/tab-separated-values': 'tsv',
    'application/json': 'json',
    'application/x-ndjson': 'jsonl',
    'application/jsonl': 'jsonl',
    'application/jsonlines': 'jsonl',
    'application/vnd.apache.parquet': 'parquet',
    'application/x-parquet': 'parquet',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  };
  if (byType[type]) return byType[type];
  const ext = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  const byExt: Record<string, 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet' | 'xlsx'> = {
    csv: 'csv',
    tsv: 'tsv',
    tab: 'tsv',
    json: 'json',
    jsonl: 'jsonl',
    ndjson: 'jsonl',
    parquet: 'parquet',
    xlsx: 'xlsx',
  };
  if (ext && byExt[ext]) return byExt[ext];
  throw new AppError(
    'VALIDATION_FAILED',
    `format: cannot tell the file's format from its Content-Type (${type || 'none'}) or name; give format`,
    [{ path: 'format', message: 'give csv, tsv, json, jsonl, parquet or xlsx' }],
  );
}
