// `mass rules ...`, `mass decide`, `mass decisions ...` run as a user runs them: a child process
// against a real server on 127.0.0.1. alice writes and submits; bob approves (four-eyes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decisionFixture, deploy, P, register, scaleModel, type DecisionFixture } from './support.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('mass rules / decide / decisions', () => {
  let f: DecisionFixture;
  let dir: string;
  const mass = (key: string, ...args: string[]): Promise<Run> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, MASS_URL: f.server.url, MASS_API_KEY: key }, cwd: ROOT, timeout: 30_000 },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  const ok = (r: Run, what: string) => {
    assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };

  before(async () => {
    f = await decisionFixture();
    dir = mkdtempSync(join(tmpdir(), 'mass-rules-'));
    await register(f, 'risk', scaleModel(1));
    await deploy(f, 'risk', 'risk');
    const def = (limit: number) => ({
      facts: [
        { name: 'amount', type: 'number', source: 'input' },
        { name: 'risk', type: 'number', source: 'model', model: { deployment: 'risk', output: 'y' } },
      ],
      rules: [
        {
          name: 'big',
          conditions: { all: [{ fact: 'amount', operator: 'greaterThan', value: limit }] },
          outcome: 'refer',
          reason: `Amount above ${limit}`,
        },
        {
          name: 'risky',
          priority: 9,
          conditions: { all: [{ fact: 'risk', operator: 'greaterThan', value: 0.9 }] },
          outcome: 'decline',
          reason: 'Risk above 0.9',
        },
      ],
      defaultOutcome: 'approve',
      outcomeOrder: ['decline', 'refer', 'approve'],
    });
    writeFileSync(join(dir, 'v1.json'), JSON.stringify(def(1000)));
    writeFileSync(join(dir, 'v2.json'), JSON.stringify(def(100)));
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({
        ...def(1),
        rules: [
          {
            name: 'oops',
            conditions: { all: [{ fact: 'nope', operator: 'equal', value: 1 }] },
            outcome: 'x',
            reason: 'y',
          },
        ],
      }),
    );
  });
  after(async () => {
    await f.server.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the whole lifecycle, a decision, the record, replay and a backtest from the command line', async () => {
    const bad = await mass(f.alice, 'rules', 'validate', join(dir, 'bad.json'), '-p', P);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /oops/);
    ok(await mass(f.alice, 'rules', 'validate', join(dir, 'v1.json'), '-p', P), 'validate');
    ok(await mass(f.alice, 'rules', 'create', 'limits', '-p', P, '-d', 'Payment limits'), 'create');
    assert.match(
      ok(await mass(f.alice, 'rules', 'add-version', 'limits', join(dir, 'v1.json'), '-p', P), 'add').stdout,
      /version 1/,
    );
    ok(await mass(f.alice, 'rules', 'submit', 'limits', '1', '-p', P), 'submit');
    const self = await mass(f.aliceOwner, 'rules', 'approve', 'limits', '1', '-p', P);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /another person/);
    ok(await mass(f.bob, 'rules', 'approve', 'limits', '1', '-p', P), 'approve');
    const act = ok(await mass(f.bob, 'rules', 'activate', 'limits', '1', '-p', P), 'activate');
    assert.match(act.stdout, /active version 1/);
    ok(await mass(f.alice, 'decisions', 'bind', 'payments', '-p', P, '-r', 'limits', '-d', 'risk'), 'bind');

    const d = ok(
      await mass(
        f.invoker,
        'decide',
        'payments',
        '-p',
        P,
        '--input',
        '{"amount": 5000, "x": 0.2}',
        '-b',
        'PAY-1',
      ),
      'decide',
    );
    assert.match(d.stdout, /outcome:\s+refer/);
    assert.match(d.stdout, /Amount above 1000/);
    const json = JSON.parse(
      ok(
        await mass(
          f.invoker,
          '--json',
          'decide',
          'payments',
          '-p',
          P,
          '--input',
          '{"amount": 50, "x": 0.95}',
        ),
        'decide',
      ).stdout,
    );
    assert.equal(json.outcome, 'decline');
    const missing = await mass(f.invoker, 'decide', 'payments', '-p', P, '--input', '{"x": 1}');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/inputs\/amount/);

    const list = ok(await mass(f.viewer, 'decisions', 'list', '-p', P, '--business-key', 'PAY-1'), 'list');
    assert.match(list.stdout, /PAY-1/);
    assert.match(list.stdout, /refer/);
    const exported = ok(await mass(f.viewer, 'decisions', 'export', '-p', P), 'export')
      .stdout.trim()
      .split('\n');
    assert.equal(exported.length, 2);
    const replay = ok(
      await mass(f.viewer, 'decisions', 'replay', JSON.parse(exported[0]!).id, '-p', P),
      'replay',
    );
    assert.match(replay.stdout, /matches:\s+yes/);

    ok(await mass(f.alice, 'rules', 'add-version', 'limits', join(dir, 'v2.json'), '-p', P), 'add v2');
    const bt = ok(
      await mass(f.alice, 'rules', 'backtest', 'limits', '2', '-p', P, '--last', '10'),
      'backtest',
    );
    assert.match(bt.stdout, /on 2 decisions/);
    assert.match(bt.stdout, /0 cases flip/);
    const show = ok(await mass(f.viewer, 'rules', 'show', 'limits', '-p', P), 'show');
    assert.match(show.stdout, /active\s+alice/);
    assert.match(show.stdout, /draft/);
  });
});
