import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../auth/accounts.js';
import type { Principal } from '../auth/service.js';
import { AppError } from '../errors/index.js';
import type { App, Services } from './app.js';

/** Methods that change nothing; everything else is checked for CSRF (an allow-list, not a deny-list). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/**
 * Every request passes here before its body is read: security headers, the Host allow-list,
 * CORS (closed unless configured), authentication by key or session cookie (with CSRF for
 * cookie writes), authorization against the route's rule, and rate limits on predictions.
 * After the response, writes, logins and denials go to the audit log, off the request's path.
 */
export function registerSecurity(app: App, services: Services): void {
  const { config } = services;
  const tls = config.tlsCert !== undefined;
  const hosts = allowedHosts(config.allowedHosts, config.host);
  const limiter = new RateLimiter();

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-resource-policy', 'same-origin');
    if (!request.url.startsWith('/docs'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (tls) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');

    if (hosts && !hosts.has(hostName(request.headers.host))) {
      throw new AppError(
        'HOST_NOT_ALLOWED',
        `this server does not answer to host ${JSON.stringify(request.headers.host ?? '')}`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && config.corsOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-headers', 'authorization, content-type, x-csrf-token');
      reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      reply.header('access-control-max-age', '600');
    }

    const rule = request.routeOptions.config.auth;
    if (rule === 'public' || rule === undefined) return;
    request.principal = await authenticate(services, request);
    if (rule === 'authenticated') return;
    if (rule === 'admin') return services.auth.requireAdmin(request.principal);
    const projectName = (request.params as { project?: string }).project;
    if (projectName === undefined) services.auth.authorize(request.principal, rule);
    else request.project = await services.auth.authorizeProject(request.principal, projectName, rule);
    if (rule === 'predict' || rule === 'decide') {
      const rps = request.principal.rateLimitRps ?? config.rateLimitRps;
      const wait =
        rps > 0
          ? limiter.take(
              request.principal.keyId ?? request.principal.sessionId ?? request.principal.userId,
              rps,
            )
          : 0;
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait)));
        throw new AppError(
          'RATE_LIMITED',
          `this key may make ${rps} ${rule === 'decide' ? 'decisions' : 'predictions'} per second; retry in ${Math.ceil(wait)} s`,
        );
      }
    }
  });

  // Quotas are checked once the caller is known, still before the body is read.
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const project = request.project;
    if (!project || request.method !== 'POST') return;
    const url = request.routeOptions.url ?? '';
    if (url.endsWith('-jobs')) await services.quotas.checkJobs(project.id);
    const rule = request.routeOptions.config.auth;
    if (rule === 'dataset:write' || url.endsWith('/versions')) {
      const declared = Number(request.headers['content-length']);
      await services.quotas.checkStorage(project.id, Number.isFinite(declared) ? declared : 0);
    }
  });

  // Preflight requests: answered (with the CORS headers above when the origin is allowed) without auth.
  app.options('/*', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.status(204).send(),
  );

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const rule = request.routeOptions.config.auth;
    const status = reply.statusCode;
    const write = !SAFE_METHODS.has(request.method);
    const denied = status === 401 || status === 403;
    // Predictions are counted by the metrics and the prediction log, and decisions have their own
    // append-only record (who, what, which versions, outcome): neither is audited one by one.
    if (
      !(write || denied) ||
      ((rule === 'predict' || rule === 'decide') && !denied) ||
      request.routeOptions.url === '/v1/session'
    )
      return;
    const principal = request.principal;
    void services.audit
      .append({
        actorUserId: principal?.userId ?? null,
        actorKeyId: principal?.keyId ?? null,
        projectId: request.project?.id ?? null,
        action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        target: request.url.split('?')[0] ?? request.url,
        outcome: status < 400 ? 'success' : denied ? 'denied' : 'failure',
        status,
        ip: request.ip,
        requestId: request.id,
        details: principal?.sessionId ? { via: 'session' } : principal?.keyId ? { via: 'key' } : {},
      })
      .catch((error: unknown) => request.log.error({ err: error }, 'audit append failed'));
  });
}

async function authenticate(services: Services, request: FastifyRequest): Promise<Principal> {
  // A bearer key wins: browsers never attach one by themselves, so it needs no CSRF check.
  if (request.headers.authorization !== undefined)
    return services.auth.authenticate(request.headers.authorization);
  const token = cookie(request.headers.cookie, SESSION_COOKIE);
  if (token === undefined) return services.auth.authenticate(undefined);
  const csrf = request.headers['x-csrf-token'];
  const { principal, csrfOk } = await services.accounts.authenticate(
    token,
    typeof csrf === 'string' ? csrf : undefined,
  );
  if (!SAFE_METHODS.has(request.method) && !csrfOk) {
    throw new AppError(
      'CSRF_FAILED',
      'a write with a session cookie must carry the x-csrf-token header given at login',
    );
  }
  return principal;
}

export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon > 0 ? h.slice(0, colon) : h;
}

/** Configured names, or the loopback names when the server listens on loopback only; undefined: any. */
function allowedHosts(configured: readonly string[], bind: string): Set<string> | undefined {
  if (configured.includes('*')) return undefined;
  if (configured.length > 0) return new Set([...configured.map((h) => h.toLowerCase()), ...LOOPBACK_HOSTS]);
  if (LOOPBACK_HOSTS.includes(bind) || bind.startsWith('127.')) return new Set([...LOOPBACK_HOSTS, bind]);
  return undefined;
}

/** A token bucket per caller: `rps` tokens a second, a burst of one second's worth. In memory, per process. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes a token; returns 0, or the seconds to wait for the next one. */
  take(key: string, rps: number): number {
    const now = performance.now() / 1000;
    const bucket = this.buckets.get(key) ?? { tokens: rps, at: now };
    bucket.tokens = Math.min(rps, bucket.tokens + (now - bucket.at) * rps);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    if (this.buckets.size > 100_000) this.buckets.clear();
    return (1 - bucket.tokens) / rps;
  }
}
