#!/usr/bin/env node
// A private, throw-away MariaDB server for the test suite (the model is scripts/pg.mjs).
//
//   node scripts/mariadb.mjs start    start (or reuse) the server; the LAST stdout line is its URL
//   node scripts/mariadb.mjs status   exit 0 and print the URL if it runs, exit 3 if it does not
//   node scripts/mariadb.mjs stop     stop it (the data directory is kept, so the next start is fast)
//   node scripts/mariadb.mjs destroy  stop it and delete its state directory
//
// Only the URL goes to stdout (`mysql://mass_test:<password>@127.0.0.1:<port>/`); progress and
// diagnostics go to stderr. The user may create and drop databases: tests make one per test.
//
// State directory (default /tmp/mass-test-mariadb as root, <tmpdir>/mass-test-mariadb-<user>
// otherwise; override with MASS_TEST_MARIADB_DIR):
//   data/         the data directory          mariadb.sock  the unix socket (root logs in over it)
//   port          the TCP port last used      password      the test user's password (mode 0600)
//   mariadb.pid   the server's pid            mariadb.log   the server's error log
//   initialized   written once mariadb-install-db and the test user succeeded
// It listens on 127.0.0.1 only, without durability (it is for tests, never for data to keep).
//
// Binaries: mariadbd (or mysqld) and mariadb-install-db from PATH or /usr/sbin. If they are missing
// and we run as root on a Debian-like system, Debian's `mariadb-server` is installed with apt-get
// (set MASS_TEST_MARIADB_NO_INSTALL=1 to forbid). As root the server runs as the `mysql` user.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const STATE_DIR = resolve(
  process.env.MASS_TEST_MARIADB_DIR ||
    (IS_ROOT
      ? '/tmp/mass-test-mariadb'
      : join(tmpdir(), `mass-test-mariadb-${String(userInfo().username).replace(/[^\w.-]/g, '_')}`)),
);
const DATA_DIR = join(STATE_DIR, 'data');
const SOCKET = join(STATE_DIR, 'mariadb.sock');
const PID_FILE = join(STATE_DIR, 'mariadb.pid');
const PORT_FILE = join(STATE_DIR, 'port');
const PASSWORD_FILE = join(STATE_DIR, 'password');
const MARKER_FILE = join(STATE_DIR, 'initialized');
const LOG_FILE = join(STATE_DIR, 'mariadb.log');
const LOCK_FILE = `${STATE_DIR}.lock`;
const HOST = '127.0.0.1';
const USER = 'mass_test';
const READY_TIMEOUT_MS = 60_000;

class Fatal extends Error {}

function log(msg) {
  process.stderr.write(`[mariadb] ${msg}\n`);
}

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function safeRead(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function findCommand(names) {
  const dirs = [...(process.env.PATH || '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/sbin'];
  for (const name of names) for (const d of dirs) if (d && isFile(join(d, name))) return join(d, name);
  return undefined;
}

function binaries() {
  return {
    server: findCommand(['mariadbd', 'mysqld']),
    installDb: findCommand(['mariadb-install-db', 'mysql_install_db']),
    client: findCommand(['mariadb', 'mysql']),
  };
}

function binariesOrInstall() {
  let bins = binaries();
  if (bins.server && bins.installDb && bins.client) return bins;
  if (process.env.MASS_TEST_MARIADB_NO_INSTALL === '1') {
    throw new Fatal('MariaDB is not installed and MASS_TEST_MARIADB_NO_INSTALL=1 forbids installing it');
  }
  if (!IS_ROOT || !isFile('/usr/bin/apt-get')) {
    throw new Fatal(
      'MariaDB is not installed (no mariadbd / mariadb-install-db) and this is not root on Debian: ' +
        'install the "mariadb-server" package',
    );
  }
  log("installing Debian's mariadb-server with apt-get ...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sh = (cmd) => spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 2, 2], env }).status;
  if (sh('apt-get install -y -qq --no-install-recommends mariadb-server') !== 0) {
    sh('apt-get update -qq');
    if (sh('apt-get install -y -qq --no-install-recommends mariadb-server') !== 0)
      throw new Fatal('apt-get install mariadb-server failed');
  }
  bins = binaries();
  if (!bins.server || !bins.installDb || !bins.client)
    throw new Fatal('mariadb-server installed, but its binaries are missing');
  return bins;
}

function account() {
  if (!IS_ROOT) return { name: userInfo().username, uid: undefined, gid: undefined };
  const uid = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Fatal('running as root, but there is no `mysql` system user');
  return { name: 'mysql', uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chown(path, acct) {
  if (IS_ROOT) chownSync(path, acct.uid, acct.gid);
}

/** Runs SQL as the server's root account over the private socket (unix_socket authentication as root). */
function rootSql(bins, sql, { allowFail = false } = {}) {
  const args = [
    '--no-defaults',
    `--socket=${SOCKET}`,
    '-u',
    'root',
    '--batch',
    '--skip-column-names',
    '-e',
    sql,
  ];
  const r = spawnSync(bins.client, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 && !allowFail) throw new Fatal(`SQL as root failed: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

function runningPid() {
  const pid = Number.parseInt(safeRead(PID_FILE) ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // The pid may have been reused by something else since.
  const cmdline = safeRead(`/proc/${pid}/cmdline`);
  if (cmdline !== undefined && !/mariadbd|mysqld/.test(cmdline)) return undefined;
  return pid;
}

function portFree(port) {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen({ host: HOST, port, exclusive: true }, () => srv.close(() => done(true)));
  });
}

async function pickPort(avoid) {
  const previous = Number.parseInt(safeRead(PORT_FILE) ?? '', 10);
  if (Number.isInteger(previous) && !avoid.has(previous) && (await portFree(previous))) return previous;
  for (let i = 0; i < 20; i++) {
    const port = await new Promise((done, fail) => {
      const srv = createServer();
      srv.once('error', fail);
      srv.listen({ host: HOST, port: 0, exclusive: true }, () => {
        const p = srv.address().port;
        srv.close(() => done(p));
      });
    });
    if (!avoid.has(port)) return port;
  }
  throw new Fatal('could not find a free TCP port on 127.0.0.1');
}

function password() {
  let pw = safeRead(PASSWORD_FILE)?.trim();
  if (!pw) {
    pw = randomBytes(18).toString('base64url');
    writeFileSync(PASSWORD_FILE, `${pw}\n`, { mode: 0o600 });
  }
  return pw;
}

function urlFor(port) {
  return `mysql://${USER}:${encodeURIComponent(password())}@${HOST}:${port}/`;
}

function initDataDir(bins, acct) {
  log(`creating a MariaDB data directory in ${DATA_DIR}`);
  rmSync(MARKER_FILE, { force: true });
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o750 });
  chown(DATA_DIR, acct);
  const args = [
    '--no-defaults',
    `--datadir=${DATA_DIR}`,
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
    ...(IS_ROOT ? [`--user=${acct.name}`] : []),
  ];
  const r = spawnSync(bins.installDb, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0)
    throw new Fatal(`mariadb-install-db failed:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
}

async function waitReady(bins, exited = () => false) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const r = rootSql(bins, 'SELECT 1', { allowFail: true });
    if (r.status === 0) return;
    if (exited()) {
      const tail = (safeRead(LOG_FILE) ?? '').trim().split('\n').slice(-20).join('\n');
      throw new Fatal(`mariadbd exited while starting. Log:\n${tail}`);
    }
    if (Date.now() > deadline)
      throw new Fatal(`MariaDB did not accept connections within ${READY_TIMEOUT_MS} ms`);
    await sleep(200);
  }
}

async function withLock(fn) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      closeSync(openSync(LOCK_FILE, 'wx'));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // A lock left by a killed run: older than two minutes is stale.
      try {
        if (Date.now() - statSync(LOCK_FILE).mtimeMs > 120_000) rmSync(LOCK_FILE, { force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Fatal(`another start holds ${LOCK_FILE}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

function ensureUser(bins) {
  const pw = password().replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  rootSql(
    bins,
    [
      `CREATE USER IF NOT EXISTS '${USER}'@'${HOST}' IDENTIFIED BY '${pw}'`,
      `ALTER USER '${USER}'@'${HOST}' IDENTIFIED BY '${pw}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'${HOST}' WITH GRANT OPTION`,
      'FLUSH PRIVILEGES',
    ].join(';'),
  );
}

async function start() {
  return withLock(async () => {
    const bins = binariesOrInstall();
    const acct = account();
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
    chown(STATE_DIR, acct);
    const running = runningPid();
    if (running) {
      await waitReady(bins, () => !runningPid());
      ensureUser(bins);
      log(`reusing the running MariaDB (pid ${running}) in ${STATE_DIR}`);
      return urlFor(Number(safeRead(PORT_FILE)));
    }
    if (!existsSync(MARKER_FILE) || !existsSync(join(DATA_DIR, 'mysql'))) initDataDir(bins, acct);
    rmSync(SOCKET, { force: true });
    const tried = new Set();
    for (let attempt = 1; ; attempt++) {
      const port = await pickPort(tried);
      tried.add(port);
      if (!existsSync(LOG_FILE)) writeFileSync(LOG_FILE, '');
      chown(LOG_FILE, acct);
      const logSize = statSync(LOG_FILE).size;
      log(`starting ${bins.server} on ${HOST}:${port} (log: ${LOG_FILE})`);
      const child = spawn(
        bins.server,
        [
          '--no-defaults',
          `--datadir=${DATA_DIR}`,
          `--socket=${SOCKET}`,
          `--pid-file=${PID_FILE}`,
          `--log-error=${LOG_FILE}`,
          `--bind-address=${HOST}`,
          `--port=${port}`,
          '--skip-name-resolve',
          '--innodb-flush-log-at-trx-commit=0',
          '--innodb-buffer-pool-size=64M',
          '--innodb-log-file-size=16M',
          '--max-connections=200',
          '--character-set-server=utf8mb4',
          '--collation-server=utf8mb4_unicode_ci',
          '--default-time-zone=+00:00',
          ...(IS_ROOT ? [`--user=${acct.name}`] : []),
        ],
        { detached: true, stdio: 'ignore' },
      );
      let exited = false;
      child.on('exit', () => (exited = true));
      child.unref();
      writeFileSync(PORT_FILE, `${port}\n`);
      try {
        await waitReady(bins, () => exited);
      } catch (e) {
        const newLog = (safeRead(LOG_FILE) ?? '').slice(logSize);
        if (/Address already in use|Can't start server: Bind/i.test(newLog) && attempt < 5) {
          log(`port ${port} was taken meanwhile; trying another`);
          continue;
        }
        throw e;
      }
      writeFileSync(PORT_FILE, `${port}\n`);
      ensureUser(bins);
      writeFileSync(MARKER_FILE, `${new Date().toISOString()}\n`);
      log(`MariaDB is ready on ${HOST}:${port}`);
      return urlFor(port);
    }
  });
}

async function stop() {
  return withLock(async () => {
    const pid = runningPid();
    if (!pid) {
      log('no MariaDB started by this script is running');
      return;
    }
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (runningPid() && Date.now() < deadline) await sleep(200);
    if (runningPid()) {
      log('SIGTERM did not stop it; sending SIGKILL');
      process.kill(pid, 'SIGKILL');
      await sleep(500);
    }
    log('MariaDB stopped');
  });
}

async function status() {
  const pid = runningPid();
  if (!pid) {
    log(`not running (state dir ${STATE_DIR})`);
    return 3;
  }
  const bins = binaries();
  if (!bins.client || rootSql(bins, 'SELECT 1', { allowFail: true }).status !== 0) {
    log(`mariadbd pid ${pid} runs but does not accept connections`);
    return 1;
  }
  log(`running: pid ${pid}, data ${DATA_DIR}`);
  process.stdout.write(`${urlFor(Number(safeRead(PORT_FILE)))}\n`);
  return 0;
}

async function main() {
  const cmd = process.argv[2];
  try {
    switch (cmd) {
      case 'start':
        process.stdout.write(`${await start()}\n`);
        return 0;
      case 'stop':
        await stop();
        return 0;
      case 'status':
        return await status();
      case 'destroy':
        await stop();
        rmSync(STATE_DIR, { recursive: true, force: true });
        log(`removed ${STATE_DIR}`);
        return 0;
      default:
        process.stderr.write('usage: node scripts/mariadb.mjs start|stop|status|destroy\n');
        return 2;
    }
  } catch (e) {
    if (e instanceof Fatal) {
      process.stderr.write(`[mariadb] ERROR: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
