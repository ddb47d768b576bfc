// Serving figures of Mass against the services a team would otherwise write (FastAPI + uvicorn,
// Flask + gunicorn) and the bare node:http ceiling, side by side in one run on this machine, with
// wrk on the same cores. Writes the tables into bench/RESULTS.md.
//
//   npx tsc -p tsconfig.json && node dist/bench/serve.js [--seconds 5] [--rounds 3]
//
// Installs what it needs with apt-get when missing (as root): wrk, FastAPI, uvicorn, Flask,
// gunicorn, scikit-learn. Every server binds 127.0.0.1; every load run is bounded in time.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { replaceSection } from './results.js';

const SHARED = resolve('../shared');
const PEERS = join(SHARED, 'peers');
const DATA = join(SHARED, 'data');
const OUT = '/tmp/mass-bench-serve';
const LUA = resolve('bench/serve.lua');
const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] ?? NaN) || 5;
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] ?? NaN) || 3;
const PYTHON = '/usr/bin/python3';

interface Wrk {
  requests: number;
  duration_us: number;
  non2xx: number;
  err_connect: number;
  err_read: number;
  err_timeout: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

interface Run {
  readonly label: string;
  readonly rps: number;
  readonly rowsPerRequest: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

function log(message: string): void {
  process.stderr.write(`[bench:serve] ${message}\n`);
}

function has(cmd: string, argv: string[]): boolean {
  return spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0;
}

function ensureTools(): void {
  const pyOk = () =>
    has(PYTHON, ['-c', 'import fastapi, uvicorn, flask, sklearn, pandas, joblib, httptools, uvloop']);
  const ok = () => has('wrk', ['--version']) || existsSync('/usr/bin/wrk');
  if (ok() && pyOk() && has('gunicorn', ['--version'])) return;
  if (process.getuid?.() !== 0)
    throw new Error('wrk, python3-fastapi, uvicorn, flask, gunicorn and scikit-learn are needed');
  log('installing wrk and the peers with apt-get ...');
  execFileSync(
    'sh',
    [
      '-c',
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk python3-fastapi python3-uvicorn ' +
        'python3-httptools python3-uvloop python3-flask gunicorn python3-sklearn python3-pandas >/dev/null',
    ],
    { stdio: 'inherit' },
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolvePort(a.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await fetch(url, { method: 'GET' });
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${url} did not come up`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A server in its own process group, stopped by its id. */
function start(cmd: string, argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): ChildProcess {
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

function wrk(url: string, body: string, connections: number, seconds: number, key = ''): Wrk {
  const r = spawnSync(
    'wrk',
    [
      `-t${Math.min(2, connections)}`,
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '5s',
      '--latency',
      '-s',
      LUA,
      url,
    ],
    { env: { ...process.env, BODY: body, KEY: key }, encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk gave no summary: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(8)) as Wrk;
}

function median(runs: readonly Run[]): Run {
  const by = (f: (r: Run) => number) => [...runs].map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return {
    label: runs[0]!.label,
    rowsPerRequest: runs[0]!.rowsPerRequest,
    rps: by((r) => r.rps),
    p50: by((r) => r.p50),
    p99: by((r) => r.p99),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

function measure(
  label: string,
  url: string,
  body: string,
  connections: number,
  rowsPerRequest: number,
  key = '',
): Run {
  const w = wrk(url, body, connections, SECONDS, key);
  const run: Run = {
    label,
    rps: w.requests / (w.duration_us / 1e6),
    rowsPerRequest,
    p50: w.p50_us / 1000,
    p99: w.p99_us / 1000,
    errors: w.non2xx + w.err_connect + w.err_read + w.err_timeout,
  };
  log(
    `${label}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, errors ${run.errors}`,
  );
  return run;
}

/** fetch, once more when a kept-alive connection was closed by the server while idle. */
async function fetchRetry(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

// The API's answers are read loosely here, as in the tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(base: string, key: string, method: string, path: string, json?: unknown): Promise<any> {
  const r = await fetchRetry(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function trainRowsCsv(path: string): Promise<void> {
  const split = JSON.parse(readFileSync(join(DATA, 'splits', 'synth_clf_200k.split.json'), 'utf8')) as {
    train: number[];
  };
  const keep = new Uint8Array(200_001);
  for (const i of split.train) keep[i] = 1;
  const out = createWriteStream(path);
  let i = -1;
  for await (const line of createInterface({ input: createReadStream(join(DATA, 'synth_clf_200k.csv')) })) {
    if (i < 0 || keep[i]) out.write(`${line}\n`);
    i++;
  }
  await new Promise((r) => out.end(r));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function waitJob(base: string, key: string, id: string): Promise<any> {
  for (;;) {
    const job = await api(base, key, 'GET', `/v1/projects/bench/jobs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Memory and cold-load time per model, in a fresh process: `--models-probe <onnx> <signature.json> <n>`. */
async function modelsProbe(onnx: string, signaturePath: string, n: number): Promise<void> {
  const { loadOnnxRuntime } = await import('../src/serving/runtime.js');
  const { LoadedModel } = await import('../src/serving/model.js');
  const bytes = readFileSync(onnx);
  const signature = JSON.parse(readFileSync(signaturePath, 'utf8'));
  const keep: unknown[] = [];
  const first = performance.now();
  const warmOne = async (i: number) => {
    const rt = await loadOnnxRuntime(bytes);
    const m = new LoadedModel(
      {
        id: `v${i}`,
        modelId: 'm',
        model: 'm',
        version: i,
        artifactHash: '',
        sizeBytes: bytes.length,
        algorithm: '',
        params: {},
        metrics: {},
        signature,
        datasetVersionId: null,
        jobId: null,
        codeVersion: '',
        createdAt: '',
      },
      rt,
      10_000,
      0,
    );
    m.warm();
    keep.push(m);
  };
  await warmOne(0);
  const coldFirstMs = performance.now() - first;
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) await warmOne(i);
  const loadMs = (performance.now() - t0) / n;
  (globalThis as { gc?: () => void }).gc?.();
  const perModel = (process.memoryUsage().rss - rss0) / n;
  process.stdout.write(
    `${JSON.stringify({ coldFirstMs, loadMs, perModelBytes: perModel, models: keep.length })}\n`,
  );
}

const fmt = (x: number, d = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  if (args[0] === '--models-probe') return modelsProbe(args[1]!, args[2]!, Number(args[3] ?? 100));
  ensureTools();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });

  // 1. The peers' models (scikit-learn on synth_clf_200k's train rows) and the request bodies.
  log('training the peers’ models (scikit-learn) ...');
  execFileSync(PYTHON, [join(PEERS, 'make_serving_models.py'), OUT], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const body1 = JSON.parse(readFileSync(join(OUT, 'body1.json'), 'utf8')) as { inputs: number[][] };
  const row = body1.inputs[0]!;

  // 2. Mass, auth on, in its own process; Mass's own models trained on the same rows.
  const massPort = await freePort();
  const home = join(OUT, 'home');
  const mass = start(
    process.execPath,
    ['dist/src/main.js', '--host', '127.0.0.1', '--port', String(massPort), '--home', home],
    {
      MASS_LOG_LEVEL: 'warn',
      MASS_MAX_UPLOAD_BYTES: String(512 * 1024 * 1024),
      MASS_MAX_BODY_BYTES: String(64 * 1024 * 1024),
      MASS_DEPLOYMENT_REFRESH_MS: '0',
    },
  );
  let stdout = '';
  mass.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const base = `http://127.0.0.1:${massPort}`;
  const servers: ChildProcess[] = [mass];
  process.on('exit', () => {
    for (const s of servers) {
      try {
        if (s.pid !== undefined && s.exitCode === null) process.kill(-s.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  try {
    await waitFor(`${base}/healthz`);
    const admin = /(mass_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43})/.exec(stdout)?.[1];
    if (!admin) throw new Error(`no admin key in Mass's output:\n${stdout}`);
    await api(base, admin, 'POST', '/v1/projects', { name: 'bench' });
    const csv = join(OUT, 'synth_train.csv');
    await trainRowsCsv(csv);
    log('uploading the train rows to Mass ...');
    const up = await fetch(`${base}/v1/projects/bench/datasets?name=synth`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: readFileSync(csv),
    });
    if (up.status >= 300) throw new Error(`upload: ${up.status} ${await up.text()}`);
    const { TRAINERS } = await import('../src/training/trainers/index.js');
    const algorithms = ['logistic_regression', ...(TRAINERS.gradient_boosting ? ['gradient_boosting'] : [])];
    const trained: Record<string, unknown> = {};
    for (const algorithm of algorithms) {
      log(`training ${algorithm} in Mass ...`);
      const model = algorithm === 'logistic_regression' ? 'lr' : 'gbdt';
      // Every row uploaded is a train row: hold out only a sliver for the job's own metrics.
      const job = await api(base, admin, 'POST', '/v1/projects/bench/training-jobs', {
        dataset: 'synth',
        target: 'target',
        model,
        algorithm,
        testFraction: 0.02,
        // 100 trees, as the issue's figure asks (no early stopping to cut them short).
        ...(algorithm === 'gradient_boosting' ? { params: { maxIter: 100, earlyStopping: 'off' } } : {}),
      });
      const done = await waitJob(base, admin, job.id);
      if (done.status !== 'succeeded') throw new Error(`${algorithm}: ${done.error}`);
      trained[model] = done.result;
    }
    const deployments: [string, string, unknown?][] = [
      ['lr', 'lr'],
      ['lr-c1', 'lr'],
      ['lr-batched', 'lr', { maxBatchSize: 64, maxWaitUs: 250 }],
      ...(trained.gbdt ? ([['gbdt', 'gbdt']] as [string, string][]) : []),
    ];
    for (const [name, model, batching] of deployments)
      await api(base, admin, 'POST', '/v1/projects/bench/deployments', {
        name,
        model,
        ...(batching ? { batching } : {}),
      });
    const key = (
      await api(base, admin, 'POST', '/v1/keys', { name: 'bench', project: 'bench', role: 'invoker' })
    ).key as string;
    writeFileSync(join(OUT, 'keys.json'), JSON.stringify({ admin, key, port: massPort }));
    const meta = await api(base, key, 'GET', '/v2/models/lr');
    const columns = meta.parameters.matrix_input.columns as string[];
    const matrixBody = join(OUT, 'v2-matrix.json');
    writeFileSync(
      matrixBody,
      JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, row.length], data: row }] }),
    );
    const columnsBody = join(OUT, 'v2-columns.json');
    writeFileSync(
      columnsBody,
      JSON.stringify({
        inputs: columns.map((name, j) => ({ name, datatype: 'FP32', shape: [1, 1], data: [row[j]] })),
      }),
    );

    // The model file and signature, for the memory and cold-load probe.
    const version = await api(base, admin, 'GET', '/v1/projects/bench/models/lr/versions/1');
    const artifact = await fetchRetry(`${base}/v1/projects/bench/models/lr/versions/1/artifact`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    writeFileSync(join(OUT, 'lr.onnx'), Buffer.from(await artifact.arrayBuffer()));
    writeFileSync(join(OUT, 'lr.signature.json'), JSON.stringify(version.signature));

    const loadBefore = loadavg()[0]!;
    const runs: Record<string, Run> = {};
    const v2 = (d: string) => `${base}/v2/models/${d}/infer`;
    const body1000 = join(OUT, 'body1000.json');
    const body1Path = join(OUT, 'body1.json');

    // 3. The peers, started now and idle until their turn: every comparison interleaves its
    //    contenders round by round, so that a change in the machine's load hits all of them.
    const peerPorts = {
      fastapiLr: await freePort(),
      fastapiHgb: await freePort(),
      flask: await freePort(),
      node: await freePort(),
    };
    const uvicorn = (port: number, env: NodeJS.ProcessEnv) =>
      start(
        PYTHON,
        [
          '-m',
          'uvicorn',
          'serve_fastapi:app',
          '--app-dir',
          PEERS,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--workers',
          '1',
          '--no-access-log',
        ],
        env,
        PEERS,
      );
    servers.push(
      uvicorn(peerPorts.fastapiLr, { MODEL_PATH: join(OUT, 'lr.joblib') }),
      uvicorn(peerPorts.fastapiHgb, { MODEL_PATH: join(OUT, 'hgb.joblib'), OMP_NUM_THREADS: '1' }),
      start(
        'gunicorn',
        ['-w', '2', '-b', `127.0.0.1:${peerPorts.flask}`, '--chdir', PEERS, 'serve_flask:app'],
        {
          MODEL_PATH: join(OUT, 'lr.joblib'),
        },
        PEERS,
      ),
      start(process.execPath, [join(PEERS, 'serve_node.js')], { PORT: String(peerPorts.node) }, PEERS),
    );
    for (const port of Object.values(peerPorts)) await waitFor(`http://127.0.0.1:${port}/`);
    const peerUrl = (port: number) => `http://127.0.0.1:${port}/predict`;

    interface Contender {
      readonly id: string;
      readonly label: string;
      readonly url: string;
      readonly body: string;
      readonly rows: number;
      readonly key?: string;
    }
    /** Median of ROUNDS interleaved runs of each contender (one warm-up each first). */
    const compare = (connections: number, contenders: Contender[]) => {
      const all = new Map<string, Run[]>(contenders.map((c) => [c.id, []]));
      for (const c of contenders) wrk(c.url, c.body, connections, 2, c.key);
      for (let round = 0; round < ROUNDS; round++)
        for (const c of contenders)
          all.get(c.id)!.push(measure(c.label, c.url, c.body, connections, c.rows, c.key));
      for (const c of contenders) runs[c.id] = median(all.get(c.id)!);
    };
    const massLr = (id: string, label: string, deployment: string, body = matrixBody): Contender => ({
      id,
      label,
      url: v2(deployment),
      body,
      rows: 1,
      key,
    });

    log('logistic regression, one row, 16 connections ...');
    compare(16, [
      massLr('massLr', 'Mass LR, V2 REST (input-0 matrix), auth on', 'lr'),
      massLr(
        'massLrBatched',
        'Mass LR, V2 REST (input-0 matrix), auth on, adaptive batching (64 rows, 250 µs)',
        'lr-batched',
      ),
      massLr('massLrColumns', 'Mass LR, V2 REST (one tensor per column), auth on', 'lr', columnsBody),
      {
        id: 'fastapiLr',
        label: 'FastAPI + uvicorn (1 worker), LR',
        url: peerUrl(peerPorts.fastapiLr),
        body: body1Path,
        rows: 1,
      },
      {
        id: 'node',
        label: 'bare node:http (the ceiling)',
        url: peerUrl(peerPorts.node),
        body: body1Path,
        rows: 1,
      },
    ]);
    log('gradient-boosted trees, one row, 16 connections ...');
    compare(16, [
      ...(trained.gbdt ? [massLr('massGbdt', 'Mass GBDT (100 trees), V2 REST, auth on', 'gbdt')] : []),
      {
        id: 'fastapiHgb',
        label: 'FastAPI + uvicorn (1 worker), HistGradientBoosting, 1 thread',
        url: peerUrl(peerPorts.fastapiHgb),
        body: body1Path,
        rows: 1,
      },
    ]);
    log('1,000 rows per request, 16 connections ...');
    compare(16, [
      {
        id: 'massLr1000',
        label: 'Mass LR, MLflow /invocations (the same body), auth on',
        url: `${base}/v1/projects/bench/deployments/lr/invocations`,
        body: body1000,
        rows: 1000,
        key,
      },
      {
        id: 'flask1000',
        label: 'Flask + gunicorn (2 workers), LR',
        url: peerUrl(peerPorts.flask),
        body: body1000,
        rows: 1000,
      },
      {
        id: 'node1000',
        label: 'bare node:http (the ceiling)',
        url: peerUrl(peerPorts.node),
        body: body1000,
        rows: 1000,
      },
    ]);
    log('adaptive batching, one row, 64 connections ...');
    compare(64, [
      massLr('massOff64', 'Mass LR, batching off', 'lr'),
      massLr('massOn64', 'Mass LR, batching on (64 rows, 250 µs)', 'lr-batched'),
    ]);

    // 4. Time inside the server, from its own histogram: one connection (no queueing), and the 16-connection runs above.
    wrk(v2('lr-c1'), matrixBody, 1, 2, key);
    wrk(v2('lr-c1'), matrixBody, 1, SECONDS, key);
    const metrics = await (
      await fetchRetry(`${base}/metrics`, { headers: { authorization: `Bearer ${admin}` } })
    ).text();
    const quantile = (deployment: string, q: string) =>
      Number(
        new RegExp(
          `mass_http_server_duration_quantile_seconds\\{route="v2_infer",project="bench",deployment="${deployment}",quantile="${q}"\\} ([\\d.e+-]+)`,
        ).exec(metrics)?.[1] ?? NaN,
      ) * 1e6;
    const inServer = {
      c1: { p50: quantile('lr-c1', '0.5'), p99: quantile('lr-c1', '0.99') },
      c16: { p50: quantile('lr', '0.5'), p99: quantile('lr', '0.99') },
    };
    log(
      `in-server LR: 1 connection p50 ${inServer.c1.p50.toFixed(0)} µs; 16 connections p50 ${inServer.c16.p50.toFixed(0)} µs`,
    );
    for (const child of servers) await stop(child);

    // 5. Memory and cold-load time per model, in a fresh process.
    const probe = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        'dist/bench/serve.js',
        '--models-probe',
        join(OUT, 'lr.onnx'),
        join(OUT, 'lr.signature.json'),
        '100',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const models = JSON.parse(probe.stdout.trim().split('\n').pop() ?? '{}') as {
      coldFirstMs: number;
      loadMs: number;
      perModelBytes: number;
    };

    // 6. The report.
    const ratio = (a: Run | undefined, b: Run | undefined) =>
      a && b ? `${(a.rps / b.rps).toFixed(2)}×` : 'n/a';
    const line = (r: Run | undefined, vs?: string) =>
      r
        ? `| ${r.label} | ${fmt(r.rps)} | ${fmt(r.rps * r.rowsPerRequest)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.errors} | ${vs ?? ''} |`
        : undefined;
    const sklearn = spawnSync(
      PYTHON,
      [
        '-c',
        'import sklearn, fastapi, flask; print(sklearn.__version__, fastapi.__version__, flask.__version__)',
      ],
      {
        encoding: 'utf8',
      },
    ).stdout.trim();
    const cpu = cpus();
    const ortVersion = JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8'))
      .version as string;
    const target = (ok: boolean) => (ok ? 'met' : '**not met**');
    const lr = runs.massLr!;
    const text = [
      `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; onnxruntime-node ${ortVersion}; scikit-learn, FastAPI, Flask ${sklearn} (Debian). Load average (1 min) ${loadBefore.toFixed(1)} before the runs, ${loadavg()[0]!.toFixed(1)} after: other work on the machine shifts absolute figures; the ratios compare runs of the same session.`,
      `Command: \`npx tsc -p tsconfig.json && node dist/bench/serve.js --seconds ${SECONDS} --rounds ${ROUNDS}\` (wrk -t2 on the same cores as the servers, everything on 127.0.0.1; each figure is the median of ${ROUNDS} runs of ${SECONDS} s, the contenders of a comparison interleaved round by round, after a 2 s warm-up each).`,
      `Models: logistic regression (StandardScaler + LogisticRegression for the peers; Mass's own trainer) and gradient-boosted trees${trained.gbdt ? ' (Mass: its gradient_boosting trainer)' : ''} vs HistGradientBoosting, trained on synth_clf_200k's 160,000 train rows; one test row per request (\`{"inputs": [[30 floats]]}\` for the peers, the same row as a V2 tensor for Mass, with an API key).`,
      '',
      '| server | req/s | rows/s | p50 | p99 | errors | ratio |',
      '|---|---|---|---|---|---|---|',
      '| **Logistic regression, one row, 16 connections** | | | | | | |',
      line(lr, `${ratio(lr, runs.fastapiLr)} FastAPI; ${ratio(lr, runs.node)} of the ceiling`),
      line(
        runs.massLrBatched,
        `${ratio(runs.massLrBatched, runs.fastapiLr)} FastAPI; ${ratio(runs.massLrBatched, runs.node)} of the ceiling`,
      ),
      line(runs.massLrColumns, `${ratio(runs.massLrColumns, runs.fastapiLr)} FastAPI`),
      line(runs.fastapiLr),
      line(runs.node),
      '| **Gradient-boosted trees, one row, 16 connections** | | | | | | |',
      runs.massGbdt
        ? line(runs.massGbdt, `${ratio(runs.massGbdt, runs.fastapiHgb)} FastAPI HGB`)
        : '| Mass GBDT | not measured: no `gradient_boosting` trainer yet | | | | | |',
      line(runs.fastapiHgb),
      '| **1,000 rows per request, 16 connections** | | | | | | |',
      line(runs.massLr1000, `${ratio(runs.massLr1000, runs.flask1000)} Flask rows/s`),
      line(runs.flask1000),
      line(runs.node1000),
      '| **Adaptive batching, one row, 64 connections** | | | | | | |',
      line(runs.massOn64, `${ratio(runs.massOn64, runs.massOff64)} batching off`),
      line(runs.massOff64),
      '',
      `Time inside Mass (request in → response written, its own histogram at 2% resolution), logistic regression, one row: **p50 ${inServer.c1.p50.toFixed(0)} µs**, p99 ${inServer.c1.p99.toFixed(0)} µs at 1 connection; p50 ${inServer.c16.p50.toFixed(0)} µs, p99 ${inServer.c16.p99.toFixed(0)} µs at 16 connections (which includes waiting for the other 15 on the one event loop).`,
      '',
      `Models in memory: the logistic regression loaded 100 times in one process costs ${(models.perModelBytes / 1024).toFixed(0)} KiB of RSS per model and ${models.loadMs.toFixed(1)} ms per cold load (read, session, input packing checked against the original graph, warm-up); the first load of the process ${models.coldFirstMs.toFixed(0)} ms.`,
      '',
      'Targets of issue 6:',
      `- LR one row ≥ 4× FastAPI: ${ratio(lr, runs.fastapiLr)} batching off, ${ratio(runs.massLrBatched, runs.fastapiLr)} on, ${target(lr.rps >= 4 * runs.fastapiLr!.rps)}; ≥ ½ of the node:http ceiling: ${ratio(lr, runs.node)} batching off (${target(lr.rps >= 0.5 * runs.node!.rps)}), ${ratio(runs.massLrBatched, runs.node)} batching on (${target(runs.massLrBatched!.rps >= 0.5 * runs.node!.rps)}); p99 < 5 ms: ${lr.p99.toFixed(2)} ms off, ${runs.massLrBatched!.p99.toFixed(2)} ms on, ${target(lr.p99 < 5 && runs.massLrBatched!.p99 < 5)}.`,
      `- GBDT one row ≥ 8× FastAPI HGB: ${runs.massGbdt ? `${ratio(runs.massGbdt, runs.fastapiHgb)}, ${target(runs.massGbdt.rps >= 8 * runs.fastapiHgb!.rps)}` : 'not measured (no gradient_boosting trainer in this build)'}.`,
      `- 1,000 rows ≥ 2× Flask + gunicorn rows/s: ${ratio(runs.massLr1000, runs.flask1000)}, ${target(runs.massLr1000!.rps >= 2 * runs.flask1000!.rps)}.`,
      `- In-server p50 < 100 µs (LR, one row): ${inServer.c1.p50.toFixed(0)} µs at 1 connection, ${target(inServer.c1.p50 < 100)}.`,
      `- Batching on at 64 connections: ${ratio(runs.massOn64, runs.massOff64)} the throughput of batching off, p99 ${runs.massOn64!.p99.toFixed(2)} ms vs ${runs.massOff64!.p99.toFixed(2)} ms.`,
    ]
      .filter((l) => l !== undefined)
      .join('\n');
    replaceSection('bench/RESULTS.md', 'Serving against FastAPI, Flask and bare node:http', text);
    writeFileSync(join(OUT, 'results.json'), JSON.stringify({ runs, inServer, models }, null, 1));
    log('written to bench/RESULTS.md');
  } finally {
    for (const s of servers) await stop(s).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
