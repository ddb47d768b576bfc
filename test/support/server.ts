// A real Mass server on 127.0.0.1 (random port) over a temporary data folder, for HTTP tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { startPlatform, type Platform } from '../../src/platform.js';

export const SHARED_DATA = resolve('../shared/data');

export interface TestServer {
  readonly url: string;
  readonly home: string;
  readonly platform: Platform;
  /** The admin key of a fresh home; undefined when the home was reused. */
  readonly adminKey: string | undefined;
  /** Stops the server, keeping the data folder (for restart tests). */
  stop(): Promise<void>;
  /** Stops the server and deletes the data folder. */
  dispose(): Promise<void>;
}

export async function startTestServer(options: ConfigInput & { home?: string } = {}): Promise<TestServer> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'mass-home-'));
  const config = loadConfig({ logLevel: 'silent', ...options, home, host: '127.0.0.1', port: 0 }, {});
  const platform = await startPlatform(config);
  const address = await platform.app.listen({ host: '127.0.0.1', port: 0 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await platform.close();
  };
  return {
    url: address,
    home,
    platform,
    adminKey: platform.adminKey,
    stop,
    async dispose() {
      await stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A small fetch wrapper for tests: JSON in, status + parsed body out. */
export async function call(
  server: { url: string },
  method: string,
  path: string,
  options: {
    key?: string | undefined;
    json?: unknown;
    body?: RequestInit['body'];
    type?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: RequestInit['body'] | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.type) headers['content-type'] = options.type;
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Polls a job until it ends. */
export async function waitForJob(
  server: { url: string },
  key: string,
  project: string,
  id: string,
  ms = 60_000,
): Promise<any> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const { body } = await call(server, 'GET', `/v1/projects/${project}/jobs/${id}`, { key });
    if (['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish in ${ms} ms`);
}
