/** A thin typed client of the Mass HTTP API, built on Node's global fetch. */

/** One problem+json body, as every error of the API is written (RFC 9457). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: string;
  readonly requestId: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/** The server answered with an error; `problem` is its body (synthesised when the body was not problem+json). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
  get status(): number {
    return this.problem.status;
  }
}

/** A mistake on the caller's side found before or without the server: a missing key, a bad file, no server. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
}

/** The server could not be reached at all. */
export class ConnectionError extends CliError {
  override readonly name = 'ConnectionError';
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as is (a stream needs `duplex: 'half'`, which `request` adds). */
  readonly body?: ReadableStream<Uint8Array>;
  readonly headers?: Record<string, string>;
}

/** Builds a path whose interpolated parts are URL-encoded: path`/v1/projects/${name}`. */
export function path(strings: TemplateStringsArray, ...parts: (string | number)[]): string {
  return strings.reduce(
    (out, s, i) => out + s + (i < parts.length ? encodeURIComponent(String(parts[i])) : ''),
    '',
  );
}

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    url: string,
    private readonly key: string | undefined,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(
        `the server URL ${JSON.stringify(url)} is not a URL (set MASS_URL or --url, e.g. http://127.0.0.1:8080)`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`the server URL must start with http:// or https://, got ${JSON.stringify(url)}`);
    }
    this.baseUrl = parsed.href.replace(/\/+$/, '');
  }

  /** Sends a request and returns the parsed JSON body (undefined for 204); throws ApiError for 4xx/5xx. */
  async request<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, route, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `the server at ${this.baseUrl} answered ${method} ${route} with a body that is not JSON`,
      );
    }
  }

  /** Like `request`, but hands back the raw response (for downloads); the status is already checked. */
  async send(method: string, route: string, options: RequestOptions = {}): Promise<Response> {
    if (!this.key) throw new CliError('no API key: set MASS_API_KEY (or pass --key mass_...)');
    const url = new URL(this.baseUrl + route);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${this.key}`,
      ...options.headers,
    };
    const init: RequestInit = { method, headers };
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      init.body = options.body;
      init.duplex = 'half';
    }

    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new ConnectionError(connectionMessage(this.baseUrl, error));
    }
    if (response.ok) return response;
    throw new ApiError(await readProblem(response, `${method} ${url.pathname}`));
  }
}

async function readProblem(response: Response, instance: string): Promise<Problem> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body.detail === 'string') {
      return {
        type: body.type ?? 'about:blank',
        title: body.title ?? response.statusText,
        status: body.status ?? response.status,
        detail: body.detail,
        instance: body.instance ?? instance,
        code: body.code ?? 'UNKNOWN',
        requestId: body.requestId ?? response.headers.get('x-request-id') ?? '',
        ...(Array.isArray(body.errors) ? { errors: body.errors } : {}),
      };
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): described below by status.
  }
  const snippet = text.trim().slice(0, 200);
  return {
    type: 'about:blank',
    title: response.statusText,
    status: response.status,
    detail: `${instance} failed with HTTP ${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ''}`,
    instance,
    code: 'HTTP_ERROR',
    requestId: response.headers.get('x-request-id') ?? '',
  };
}

/** fetch only says "fetch failed"; the reason is in the cause chain. */
function connectionMessage(baseUrl: string, error: unknown): string {
  let code: string | undefined;
  let reason = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    reason = e.message;
    // Both addresses of "localhost" refused: an AggregateError holding one error per address.
    const inner = e instanceof AggregateError ? (e.errors[0] as unknown) : e;
    const c = (inner as { code?: unknown } | undefined)?.code;
    if (typeof c === 'string') {
      code = c;
      break;
    }
  }
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    ECONNRESET: 'connection reset',
    UND_ERR_SOCKET: 'connection closed by the server',
    EHOSTUNREACH: 'host unreachable',
  };
  const text = (code && why[code]) ?? reason;
  return `cannot reach the Mass server at ${baseUrl}: ${text}. Is it running (mass serve)? Set MASS_URL or --url to point elsewhere.`;
}
