#!/usr/bin/env node
// A private, throw-away PostgreSQL server for the test suite.
//
//   node scripts/pg.mjs start    start (or reuse) the server; the LAST stdout line is its admin URL
//   node scripts/pg.mjs status   exit 0 and print the URL if it runs, exit 3 if it does not
//   node scripts/pg.mjs stop     stop it (the cluster is kept, so the next start is fast)
//   node scripts/pg.mjs destroy  stop it and delete its state directory
//
// Only the URL goes to stdout; all progress and diagnostics go to stderr.
//
// The server lives in a fixed state directory (default /tmp/mass-test-pg when run as root,
// <tmpdir>/mass-test-pg-<user> otherwise; override with MASS_TEST_PG_DIR):
//   data/        the cluster (PGDATA)
//   socket/      its unix socket directory
//   port         the TCP port last used
//   initialized  written once initdb and configuration succeeded (else the cluster is rebuilt)
//   postgres.log the server log
// It listens on 127.0.0.1 only, with trust authentication, fsync off and other settings that trade
// durability for speed: it is for tests, never for data you want to keep.
//
// PostgreSQL binaries: MASS_TEST_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin, else
// initdb/pg_ctl found on PATH. If there are none and we run as root on a Debian-like system,
// Debian's `postgresql` package is installed with apt-get (set MASS_TEST_PG_NO_INSTALL=1 to forbid).
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Buffer } from 'node:buffer';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const STATE_DIR = resolve(
  process.env.MASS_TEST_PG_DIR ||
    (IS_ROOT ? '/tmp/mass-test-pg' : join(tmpdir(), `mass-test-pg-${safeName(userInfo().username)}`)),
);
const DATA_DIR = join(STATE_DIR, 'data');
const SOCKET_DIR = join(STATE_DIR, 'socket');
const PORT_FILE = join(STATE_DIR, 'port');
const MARKER_FILE = join(STATE_DIR, 'initialized');
const LOG_FILE = join(STATE_DIR, 'postgres.log');
// Next to (not inside) the state dir, so it survives the state dir being wiped.
const LOCK_FILE = `${STATE_DIR}.lock`;
const HOST = '127.0.0.1';
const DB_USER = 'postgres';
const READY_TIMEOUT_MS = 60_000;

class Fatal extends Error {}

function log(msg) {
  process.stderr.write(`[pg] ${msg}\n`);
}

function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9_.-]/g, '_');
}

function urlFor(port) {
  return `postgres://${DB_USER}@${HOST}:${port}/postgres`;
}

// ---------------------------------------------------------------------------------------------
// Running commands (as the server's OS user when we are root)

/** The OS account that owns and runs the cluster: `postgres` when we are root, else ourselves. */
function serverAccount() {
  if (!IS_ROOT) return { name: userInfo().username, uid: undefined, gid: undefined };
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Fatal(
      'running as root, but there is no `postgres` system user to run the server as ' +
        '(PostgreSQL refuses to run as root). Install Debian\'s "postgresql" package or create that user.',
    );
  }
  return { name: 'postgres', uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function hasCommand(name) {
  return (process.env.PATH || '').split(delimiter).some((d) => d && isFile(join(d, name)));
}

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Runs cmd (as the server account if we are root); its stdout and stderr both go to our stderr. */
function runAsServer(account, cmd, args, { capture = false, allowFail = false } = {}) {
  let file = cmd;
  let argv = args;
  if (IS_ROOT) {
    if (hasCommand('runuser')) {
      file = 'runuser';
      argv = ['-u', account.name, '--', cmd, ...args];
    } else {
      file = 'su';
      argv = [account.name, '-s', '/bin/sh', '-c', [cmd, ...args].map(shellQuote).join(' ')];
    }
  }
  const r = spawnSync(file, argv, {
    cwd: STATE_DIR, // the server account may not be able to enter our cwd
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2],
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
  });
  if (r.error) throw new Fatal(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    const detail = capture ? `\n${(r.stdout || '') + (r.stderr || '')}`.trimEnd() : '';
    throw new Fatal(`${cmd} ${args.join(' ')} failed with exit code ${r.status}${detail}`);
  }
  return r;
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Finding (or installing) PostgreSQL

function findBinDir() {
  const ok = (dir) =>
    isFile(join(dir, 'initdb')) && isFile(join(dir, 'pg_ctl')) && isFile(join(dir, 'postgres'));
  if (process.env.MASS_TEST_PG_BIN) {
    if (ok(process.env.MASS_TEST_PG_BIN)) return process.env.MASS_TEST_PG_BIN;
    throw new Fatal(`MASS_TEST_PG_BIN=${process.env.MASS_TEST_PG_BIN} has no initdb/pg_ctl/postgres`);
  }
  const base = '/usr/lib/postgresql';
  let versions = [];
  try {
    versions = readdirSync(base).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // not a Debian-style layout
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (ok(join(base, v, 'bin'))) return join(base, v, 'bin');
  for (const d of (process.env.PATH || '').split(delimiter)) if (d && ok(d)) return d;
  return undefined;
}

function installPostgres() {
  if (process.env.MASS_TEST_PG_NO_INSTALL === '1') {
    throw new Fatal('PostgreSQL is not installed and MASS_TEST_PG_NO_INSTALL=1 forbids installing it.');
  }
  if (!IS_ROOT || !hasCommand('apt-get')) {
    throw new Fatal(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin, no initdb/pg_ctl on PATH) and it can only ' +
        'be installed automatically as root on a Debian-like system. Install it (e.g. ' +
        '`sudo apt-get install postgresql`), point MASS_TEST_PG_BIN at its bin directory, or point ' +
        'MASS_TEST_DATABASE_URL at a server of your own.',
    );
  }
  // Debian's package would create and start a "main" cluster on port 5432; we do not need it.
  const confDir = '/etc/postgresql-common/createcluster.d';
  const conf = join(confDir, 'mass-test-no-main-cluster.conf');
  if (!existsSync('/etc/postgresql-common/createcluster.conf') && !existsSync(conf)) {
    try {
      mkdirSync(confDir, { recursive: true });
      writeFileSync(
        conf,
        '# written by mass scripts/pg.mjs: the tests run their own cluster\ncreate_main_cluster = off\n',
      );
    } catch (e) {
      log(`(could not write ${conf}: ${e.message}; continuing)`);
    }
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => {
    log(`$ apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env });
    if (r.error || r.status !== 0) {
      throw new Fatal(
        `apt-get ${args.join(' ')} failed (${r.error ? r.error.message : `exit code ${r.status}`}): ` +
          'could not install PostgreSQL.',
      );
    }
  };
  log('PostgreSQL is not installed: installing Debian\'s "postgresql" package (this takes a minute)...');
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', 'postgresql']);
  const bin = findBinDir();
  if (!bin)
    throw new Fatal('installed the "postgresql" package but still found no /usr/lib/postgresql/*/bin');
  log(`installed PostgreSQL in ${bin}`);
  return bin;
}

function binDirOrInstall() {
  return findBinDir() ?? installPostgres();
}

function binaryVersion(bin) {
  const r = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /(\d+)(?:\.(\d+))?/.exec(r.stdout || '');
  if (!m) throw new Fatal(`could not run ${join(bin, 'postgres')} --version: ${r.stderr || r.error}`);
  return { major: m[1], full: (r.stdout || '').trim() };
}

// ---------------------------------------------------------------------------------------------
// A lock so that two concurrent invocations do not both initdb/start

async function withLock(fn) {
  const deadline = Date.now() + 15 * 60_000; // an apt-get install may be running under the lock
  let warned = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx', 0o644);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw new Fatal(`could not create lock file ${LOCK_FILE}: ${e.message}`);
    }
    const seen = safeRead(LOCK_FILE);
    const holder = Number.parseInt(seen ?? '', 10);
    if (Number.isNaN(holder) && Date.now() - mtimeMs(LOCK_FILE) < 5000) {
      await sleep(100); // its writer has not written its pid yet
      continue;
    }
    if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder) || mtimeMs(LOCK_FILE) < bootTimeMs()) {
      // Stale: its holder died, or the machine restarted (and the pid may now be someone else's). Remove it unless it changed meanwhile.
      if (safeRead(LOCK_FILE) === seen) rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Fatal(`timed out waiting for lock ${LOCK_FILE} (held by pid ${holder})`);
    if (!warned) log(`waiting for another pg.mjs (pid ${holder}) to finish...`);
    warned = true;
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    if (safeRead(LOCK_FILE)?.trim() === String(process.pid)) rmSync(LOCK_FILE, { force: true });
  }
}

function safeRead(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** When the machine booted (Linux), or 0 if unknown. */
function bootTimeMs() {
  const m = /^btime (\d+)$/m.exec(safeRead('/proc/stat') ?? '');
  return m ? Number(m[1]) * 1000 : 0;
}

function mtimeMs(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// State of the cluster

/**
 * Our postmaster, if one is running on our data dir: { pid, port, status } from postmaster.pid,
 * checked against the live process (a stale postmaster.pid after a reboot may name a reused pid).
 */
function runningPostmaster() {
  const text = safeRead(join(DATA_DIR, 'postmaster.pid'));
  if (!text) return undefined;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  const status = (lines[7] ?? '').trim();
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
  const cmdline = safeRead(`/proc/${pid}/cmdline`);
  if (cmdline !== undefined) {
    // Linux: make sure the pid really is a postmaster on our data dir, not a recycled pid.
    const args = cmdline.split('\0');
    const onOurData = args.includes(DATA_DIR) || realpathOr(`/proc/${pid}/cwd`) === realpathOr(DATA_DIR);
    if (!onOurData || !args.some((a) => /(^|\/)postgres$|(^|\/)postmaster$/.test(a))) return undefined;
  }
  return { pid, port: Number.isInteger(port) ? port : undefined, status };
}

function realpathOr(p) {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Removes lock files a crashed or rebooted server left behind (we know no server is running). */
function removeStaleLockFiles() {
  for (const p of [join(DATA_DIR, 'postmaster.pid')]) {
    if (existsSync(p)) {
      log(`removing stale ${p}`);
      rmSync(p, { force: true });
    }
  }
  let names = [];
  try {
    names = readdirSync(SOCKET_DIR);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith('.s.PGSQL.')) rmSync(join(SOCKET_DIR, n), { force: true });
  }
}

/**
 * Opens a connection like a client would (startup message as user postgres, database postgres) and
 * reports whether the server is ready: { ok: true } or { ok: false, reason, retry }.
 */
function probe(port, timeoutMs = 3000) {
  return new Promise((resolve) => {
    let done = false;
    let buf = Buffer.alloc(0);
    const sock = createConnection({ host: HOST, port });
    const finish = (result) => {
      if (done) return;
      done = true;
      globalThis.clearTimeout(timer);
      if (result.ok) {
        const terminate = Buffer.from([0x58, 0, 0, 0, 4]); // 'X' Terminate
        sock.end(terminate);
      } else {
        sock.destroy();
      }
      resolve(result);
    };
    const timer = globalThis.setTimeout(
      () => finish({ ok: false, reason: 'timed out waiting for the server to answer', retry: true }),
      timeoutMs,
    );
    sock.on('error', (e) => finish({ ok: false, reason: e.message, retry: true }));
    sock.on('close', () => finish({ ok: false, reason: 'connection closed by the server', retry: true }));
    sock.on('connect', () => {
      const params = Buffer.from(`user\0${DB_USER}\0database\0postgres\0application_name\0mass-pg.mjs\0\0`);
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      sock.write(Buffer.concat([head, params]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'R') {
          const code = body.readInt32BE(0);
          if (code !== 0) {
            return finish({
              ok: false,
              retry: false,
              reason: `the server asks for a password (auth request ${code}); trust auth is not configured`,
            });
          }
        } else if (type === 'E') {
          const fields = {};
          for (const part of body.toString('utf8').split('\0')) if (part) fields[part[0]] = part.slice(1);
          // 57P03 = cannot_connect_now (starting up, shutting down, in recovery)
          return finish({
            ok: false,
            retry: fields.C === '57P03',
            reason: `${fields.M ?? 'error'} (${fields.C ?? '?'})`,
          });
        } else if (type === 'Z') {
          return finish({ ok: true });
        }
      }
    });
  });
}

async function waitReady(port, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe(port);
    if (last.ok) return;
    if (!last.retry || Date.now() > deadline) {
      throw new Fatal(`the server on ${HOST}:${port} does not accept connections: ${last.reason}`);
    }
    await sleep(200);
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: HOST, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function pickPort(avoid = new Set()) {
  const previous = Number.parseInt(safeRead(PORT_FILE) ?? '', 10);
  if (Number.isInteger(previous) && !avoid.has(previous) && (await portFree(previous))) return previous;
  for (let i = 0; i < 20; i++) {
    // Let the kernel pick a free ephemeral port, then release it for postgres.
    const port = await new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen({ host: HOST, port: 0, exclusive: true }, () => {
        const p = srv.address().port;
        srv.close(() => resolve(p));
      });
    });
    if (!avoid.has(port)) return port;
  }
  throw new Fatal('could not find a free TCP port on 127.0.0.1');
}

// ---------------------------------------------------------------------------------------------
// Creating the cluster

function ensureStateDir(account) {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  mkdirSync(SOCKET_DIR, { recursive: true, mode: 0o755 });
  if (IS_ROOT) {
    chownSync(STATE_DIR, account.uid, account.gid);
    chownSync(SOCKET_DIR, account.uid, account.gid);
    if (existsSync(LOG_FILE)) chownSync(LOG_FILE, account.uid, account.gid);
  }
}

function clusterUsable(major) {
  const marker = safeRead(MARKER_FILE);
  if (!marker || !isFile(join(DATA_DIR, 'PG_VERSION'))) return false;
  const dataMajor = (safeRead(join(DATA_DIR, 'PG_VERSION')) ?? '').trim();
  if (dataMajor !== major) {
    log(
      `the cluster in ${DATA_DIR} is for PostgreSQL ${dataMajor}, the binaries are ${major}: recreating it`,
    );
    return false;
  }
  return true;
}

function initCluster(account, bin, major) {
  log(`creating a PostgreSQL ${major} cluster in ${DATA_DIR}`);
  rmSync(MARKER_FILE, { force: true });
  rmSync(DATA_DIR, { recursive: true, force: true });
  runAsServer(account, join(bin, 'initdb'), [
    '-D',
    DATA_DIR,
    '-U',
    DB_USER,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  // Trust, but only over our private socket and 127.0.0.1.
  const hba = [
    '# written by mass scripts/pg.mjs',
    'local all all trust',
    `host all all ${HOST}/32 trust`,
    '',
  ];
  const conf = [
    '',
    '# --- written by mass scripts/pg.mjs: a throw-away server for tests, tuned for speed ---',
    `listen_addresses = '${HOST}'`,
    `unix_socket_directories = '${SOCKET_DIR.replace(/'/g, "''")}'`,
    'max_connections = 200',
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'wal_level = minimal',
    'max_wal_senders = 0',
    'max_wal_size = 1GB',
    'checkpoint_timeout = 30min',
    'jit = off',
    // Parallel workers need dynamic shared memory, which small container /dev/shm cannot hold.
    'max_parallel_workers_per_gather = 0',
    'max_parallel_maintenance_workers = 0',
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    '',
  ];
  writeAsServer(account, join(DATA_DIR, 'pg_hba.conf'), hba.join('\n'));
  writeAsServer(
    account,
    join(DATA_DIR, 'postgresql.conf'),
    (safeRead(join(DATA_DIR, 'postgresql.conf')) ?? '') + conf.join('\n'),
  );
  writeFileSync(MARKER_FILE, `PostgreSQL ${major} (${bin}) ${new Date().toISOString()}\n`);
}

function writeAsServer(account, path, text) {
  writeFileSync(path, text, { mode: 0o600 });
  if (IS_ROOT) chownSync(path, account.uid, account.gid);
}

// ---------------------------------------------------------------------------------------------
// Commands

async function start() {
  return withLock(async () => {
    // 1. Reuse a server this script started before, if it is still up.
    let running = runningPostmaster();
    for (let i = 0; running && !running.port && i < 50; i++) {
      await sleep(200); // postmaster.pid is written line by line while the server starts
      running = runningPostmaster();
    }
    if (running) {
      try {
        if (!running.port) throw new Fatal('its postmaster.pid names no port');
        await waitReady(running.port, 30_000);
        writeFileSync(PORT_FILE, `${running.port}\n`);
        log(`reusing the running PostgreSQL (pid ${running.pid}) in ${STATE_DIR}`);
        return urlFor(running.port);
      } catch (e) {
        log(
          `a postmaster (pid ${running.pid}) runs on ${DATA_DIR} but is not usable: ${e.message}; restarting it`,
        );
        const bin = findBinDir();
        const account = serverAccount();
        if (bin) {
          runAsServer(
            account,
            join(bin, 'pg_ctl'),
            ['stop', '-D', DATA_DIR, '-m', 'immediate', '-w', '-t', '30'],
            {
              allowFail: true,
            },
          );
        }
        if (runningPostmaster()) {
          throw new Fatal(`could not stop the unusable postmaster (pid ${running.pid}); kill it and retry`);
        }
      }
    }

    // 2. Otherwise start one (creating the cluster, and installing PostgreSQL, if needed).
    const bin = binDirOrInstall();
    const account = serverAccount();
    const { major, full } = binaryVersion(bin);
    ensureStateDir(account);
    if (!clusterUsable(major)) initCluster(account, bin, major);
    removeStaleLockFiles();

    const tried = new Set();
    for (let attempt = 1; ; attempt++) {
      const port = await pickPort(tried);
      tried.add(port);
      log(`starting ${full} on ${HOST}:${port} (log: ${LOG_FILE})`);
      if (!existsSync(LOG_FILE)) writeAsServer(account, LOG_FILE, '');
      const logSize = statSync(LOG_FILE).size;
      const r = runAsServer(
        account,
        join(bin, 'pg_ctl'),
        [
          'start',
          '-D',
          DATA_DIR,
          '-l',
          LOG_FILE,
          '-w',
          '-t',
          String(READY_TIMEOUT_MS / 1000),
          '-o',
          `-p ${port}`,
        ],
        { allowFail: true },
      );
      const newLog = (safeRead(LOG_FILE) ?? '').slice(logSize);
      if (r.status === 0) {
        await waitReady(port);
        writeFileSync(PORT_FILE, `${port}\n`);
        log(`PostgreSQL is ready on ${HOST}:${port}`);
        return urlFor(port);
      }
      // Make sure a half-started server does not linger.
      runAsServer(
        account,
        join(bin, 'pg_ctl'),
        ['stop', '-D', DATA_DIR, '-m', 'immediate', '-w', '-t', '10'],
        {
          allowFail: true,
          capture: true,
        },
      );
      const portTaken = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(
        newLog,
      );
      if (portTaken && attempt < 5) {
        log(`port ${port} was taken meanwhile; trying another`);
        removeStaleLockFiles();
        continue;
      }
      const tail = newLog.trim().split('\n').slice(-20).join('\n');
      throw new Fatal(`pg_ctl start failed (exit code ${r.status}). Server log:\n${tail || '(empty)'}`);
    }
  });
}

async function stop() {
  return withLock(async () => {
    const running = runningPostmaster();
    if (!running) {
      log('no PostgreSQL started by this script is running');
      return;
    }
    const bin = findBinDir();
    const account = serverAccount();
    if (bin) {
      runAsServer(account, join(bin, 'pg_ctl'), ['stop', '-D', DATA_DIR, '-m', 'fast', '-w', '-t', '60'], {
        allowFail: true,
      });
    }
    if (runningPostmaster()) {
      log('fast shutdown did not work; sending SIGQUIT (immediate shutdown)');
      try {
        process.kill(running.pid, 'SIGQUIT');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 30_000;
      while (runningPostmaster() && Date.now() < deadline) await sleep(200);
      if (runningPostmaster()) throw new Fatal(`could not stop the postmaster (pid ${running.pid})`);
    }
    log('PostgreSQL stopped');
  });
}

async function status() {
  const running = runningPostmaster();
  if (!running?.port) {
    log(`not running (state dir ${STATE_DIR})`);
    return 3;
  }
  const p = await probe(running.port);
  if (!p.ok) {
    log(
      `postmaster pid ${running.pid} runs on port ${running.port} but does not accept connections: ${p.reason}`,
    );
    return 1;
  }
  log(`running: pid ${running.pid}, port ${running.port}, data ${DATA_DIR}`);
  process.stdout.write(`${urlFor(running.port)}\n`);
  return 0;
}

async function destroy() {
  await stop();
  return withLock(async () => {
    rmSync(STATE_DIR, { recursive: true, force: true });
    log(`removed ${STATE_DIR}`);
  });
}

async function main() {
  const cmd = process.argv[2];
  try {
    switch (cmd) {
      case 'start': {
        const url = await start();
        process.stdout.write(`${url}\n`);
        return 0;
      }
      case 'stop':
        await stop();
        return 0;
      case 'status':
        return await status();
      case 'destroy':
        await destroy();
        return 0;
      default:
        process.stderr.write('usage: node scripts/pg.mjs start|stop|status|destroy\n');
        return 2;
    }
  } catch (e) {
    if (e instanceof Fatal) {
      process.stderr.write(`[pg] ERROR: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
