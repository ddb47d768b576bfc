// Micro-benchmark of rule evaluation: one compiled set of 100 rules (90 rules with 2-3 conditions
// each over 20 facts, and a 10-row decision table; test/rules/fixtures.ts generatedRuleSet), evaluated
// on varied fact sets by both evaluators. Prints evaluations per second, one at a time and 16 at a
// time, and the latency percentiles of single evaluations.
// Not wired into bench/RESULTS.md: the decisions bench measures rules inside a decision.
//
//   npx tsc -p tsconfig.json && node dist/bench/rules.js [--rules 100] [--seconds 3]
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { compileRuleSet, evaluateRuleSet, type Evaluator } from '../src/rules/index.js';
import { generatedFacts, generatedRuleSet } from '../test/rules/fixtures.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function measure(evaluator: Evaluator, n: number, seconds: number): Promise<void> {
  const t0 = performance.now();
  const rs = compileRuleSet(generatedRuleSet(n), { evaluator });
  const compileMs = performance.now() - t0;
  const inputs = generatedFacts(1000);
  for (let i = 0; i < 2000; i++) await evaluateRuleSet(rs, inputs[i % inputs.length]!);

  // CPU time per evaluation: robust when other processes share the cores.
  const cpu0 = process.cpuUsage();
  for (let k = 0; k < 20_000; k++) await evaluateRuleSet(rs, inputs[k % inputs.length]!);
  const cpu = process.cpuUsage(cpu0);
  const cpuMicros = (cpu.user + cpu.system) / 20_000;

  // One at a time, with per-evaluation latency.
  const lat: number[] = [];
  let end = performance.now() + seconds * 1000;
  let i = 0;
  const s1 = performance.now();
  while (performance.now() < end) {
    const a = performance.now();
    await evaluateRuleSet(rs, inputs[i++ % inputs.length]!);
    lat.push(performance.now() - a);
  }
  const serial = i / ((performance.now() - s1) / 1000);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 1000;

  // 16 at a time (overlapping evaluations; the engine evaluator borrows pooled engines).
  end = performance.now() + seconds * 1000;
  let j = 0;
  const s2 = performance.now();
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: 16 }, () => evaluateRuleSet(rs, inputs[j++ % inputs.length]!)));
  }
  const concurrent = j / ((performance.now() - s2) / 1000);

  const outcomes = new Map<string, number>();
  for (const f of inputs) {
    const o = (await evaluateRuleSet(rs, f)).outcome;
    outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
  }
  console.log(
    `${evaluator}: compiled in ${compileMs.toFixed(1)} ms; ${cpuMicros.toFixed(1)} µs of CPU per evaluation`,
  );
  console.log(
    `  one at a time: ${Math.round(serial)} evaluations/s; latency p50 ${q(0.5).toFixed(1)} µs, p99 ${q(0.99).toFixed(1)} µs`,
  );
  console.log(`  16 at a time:  ${Math.round(concurrent)} evaluations/s`);
  console.log(`  outcomes over 1000 fact sets: ${[...outcomes].map(([o, c]) => `${o} ${c}`).join(', ')}`);
}

async function main(): Promise<void> {
  const n = arg('rules', 100);
  const seconds = arg('seconds', 3);
  console.log(`${n} engine rules (${n - 10} rules, a 10-row table) over 20 facts; node ${process.version}`);
  for (const evaluator of ['compiled', 'json-rules-engine'] as const) await measure(evaluator, n, seconds);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
