#!/usr/bin/env node
// The one test command: build, make sure a PostgreSQL server is reachable for the store tests,
// then run every compiled test file with Node's own test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

run('npx', ['tsc', '-p', 'tsconfig.json']);

// The ONNX files Mass writes are checked by the reference checker of Debian's python3-onnx.
const hasOnnx = () => spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
if (!hasOnnx() && process.getuid?.() === 0 && process.env.MASS_TEST_NO_APT !== '1') {
  console.error('installing python3-onnx (the reference ONNX checker) with apt-get ...');
  spawnSync(
    'sh',
    ['-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-onnx >/dev/null'],
    { stdio: 'inherit' },
  );
}
if (!hasOnnx()) console.warn('!!! python3-onnx is not available: the ONNX checker tests will be SKIPPED');

const env = { ...process.env };
if (!env.MASS_TEST_DATABASE_URL && process.env.MASS_TEST_NO_PG !== '1') {
  // Starts (installing if needed) a private PostgreSQL on 127.0.0.1 and prints its admin URL.
  const r = spawnSync(process.execPath, ['scripts/pg.mjs', 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = r.stdout.trim().split('\n').pop();
  if (r.status === 0 && url) env.MASS_TEST_DATABASE_URL = url;
  else console.warn('!!! PostgreSQL could not be started: the PostgreSQL store tests will be SKIPPED');
}

if (!env.MASS_TEST_MYSQL_URL && process.env.MASS_TEST_NO_MARIADB !== '1') {
  // Starts (installing Debian's mariadb-server if needed) a private MariaDB on 127.0.0.1 for the source tests.
  const r = spawnSync(process.execPath, ['scripts/mariadb.mjs', 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = r.stdout.trim().split('\n').pop();
  if (r.status === 0 && url) env.MASS_TEST_MYSQL_URL = url;
  else console.warn('!!! MariaDB could not be started: the MariaDB source tests will be SKIPPED');
}

const filter = process.argv.slice(2);
const files = testFiles('dist/test').filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
run(process.execPath, ['--test', '--test-concurrency=2', ...files], env);
