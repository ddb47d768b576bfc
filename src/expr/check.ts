import { COMPARISON_OPS, ExprError, children, type Expr, type ExprType } from './ast.js';
import { formatExpression } from './format.js';
import { ArgProblem, lookupFunction, unifyTypes } from './functions.js';
import { arityMessage } from './parse.js';

/** The distinct names an expression reads, in order of first use. */
export function referencedNames(expr: Expr): string[] {
  const seen = new Set<string>();
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'name') seen.add(e.name);
    const kids = children(e);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return [...seen];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** ' (did you mean 'income'?)' when one known name is close to the unknown one. */
function suggestion(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 3))
    ? ` (did you mean '${best}'?)`
    : '';
}

/**
 * Infers types bottom-up. Strict mode throws ExprError on the first problem; lenient mode (used by
 * toSql without a name table) types unknown names and conflicts as `any`.
 */
export class TypeInference {
  private readonly memo = new Map<Expr, ExprType>();

  constructor(
    private readonly names: Readonly<Record<string, ExprType>> | undefined,
    private readonly strict: boolean,
  ) {}

  typeOf(e: Expr): ExprType {
    let t = this.memo.get(e);
    if (t === undefined) {
      t = this.infer(e);
      this.memo.set(e, t);
    }
    return t;
  }

  private fail(message: string, at: Expr): ExprType {
    if (this.strict) throw new ExprError(message, at.pos);
    return 'any';
  }

  private comparable(a: ExprType, b: ExprType): boolean {
    return a === b || a === 'null' || b === 'null' || a === 'any' || b === 'any';
  }

  private infer(e: Expr): ExprType {
    switch (e.kind) {
      case 'literal':
        if (e.value === null) return 'null';
        if (typeof e.value === 'number' && !Number.isFinite(e.value)) {
          return this.fail(`number literal must be finite: ${String(e.value)}`, e);
        }
        return typeof e.value as 'number' | 'string' | 'boolean';
      case 'name': {
        const names = this.names;
        if (names && Object.prototype.hasOwnProperty.call(names, e.name)) return names[e.name]!;
        if (!names) return 'any';
        return this.fail(`unknown column or fact '${e.name}'${suggestion(e.name, Object.keys(names))}`, e);
      }
      case 'unary': {
        const t = this.typeOf(e.operand);
        const want = e.op === 'not' ? 'boolean' : 'number';
        if (t !== want && t !== 'null' && t !== 'any') {
          return this.fail(
            `'${e.op}' needs ${want === 'boolean' ? 'a boolean' : 'a number'}, got ${t}: ${formatExpression(e)}`,
            e,
          );
        }
        return want;
      }
      case 'binary': {
        const l = this.typeOf(e.left);
        const r = this.typeOf(e.right);
        const ok = (t: ExprType, want: ExprType): boolean => t === want || t === 'null' || t === 'any';
        if (e.op === 'and' || e.op === 'or') {
          if (!ok(l, 'boolean') || !ok(r, 'boolean')) {
            return this.fail(
              `'${e.op}' needs booleans, got ${ok(l, 'boolean') ? r : l}: ${formatExpression(e)}`,
              e,
            );
          }
          return 'boolean';
        }
        if (COMPARISON_OPS.has(e.op)) {
          if (!this.comparable(l, r))
            return this.fail(`cannot compare ${l} with ${r}: ${formatExpression(e)}`, e);
          if (e.op !== '=' && e.op !== '!=' && (l === 'boolean' || r === 'boolean')) {
            return this.fail(`cannot order booleans (only = and != apply): ${formatExpression(e)}`, e);
          }
          return 'boolean';
        }
        if (e.op === '+' && (l === 'string' || r === 'string')) {
          return this.fail(`'+' does not join strings, use concat(a, b): ${formatExpression(e)}`, e);
        }
        if (!ok(l, 'number') || !ok(r, 'number')) {
          const bad = ok(l, 'number') ? r : l;
          const hint = bad === 'date' ? ' (use days_between for dates)' : '';
          return this.fail(`'${e.op}' needs numbers, got ${bad}${hint}: ${formatExpression(e)}`, e);
        }
        return 'number';
      }
      case 'in': {
        const x = this.typeOf(e.operand);
        for (const item of e.list) {
          const t = this.typeOf(item);
          if (!this.comparable(x, t))
            return this.fail(`cannot compare ${x} with ${t}: ${formatExpression(e)}`, item);
        }
        return 'boolean';
      }
      case 'between': {
        const x = this.typeOf(e.operand);
        for (const bound of [e.low, e.high]) {
          const t = this.typeOf(bound);
          if (!this.comparable(x, t))
            return this.fail(`cannot compare ${x} with ${t}: ${formatExpression(e)}`, bound);
        }
        if (x === 'boolean') return this.fail(`cannot order booleans: ${formatExpression(e)}`, e);
        return 'boolean';
      }
      case 'isnull':
        this.typeOf(e.operand);
        return 'boolean';
      case 'case': {
        const results: ExprType[] = [];
        for (const w of e.whens) {
          const c = this.typeOf(w.when);
          if (c !== 'boolean' && c !== 'null' && c !== 'any') {
            return this.fail(
              `case condition must be a boolean, got ${c}: ${formatExpression(w.when)}`,
              w.when,
            );
          }
          results.push(this.typeOf(w.then));
        }
        if (e.else) results.push(this.typeOf(e.else));
        try {
          return unifyTypes(results, 'case');
        } catch (err) {
          if (err instanceof ArgProblem)
            return this.fail(`case branches mix types: ${formatExpression(e)}`, e);
          throw err;
        }
      }
      case 'call': {
        const fn = lookupFunction(e.name);
        if (!fn) return this.fail(`unknown function '${e.name}'`, e);
        const types = e.args.map((a) => this.typeOf(a));
        if (types.length < fn.minArgs || types.length > fn.maxArgs) {
          return this.fail(
            `${arityMessage(fn.name, fn.minArgs, fn.maxArgs, types.length)}: ${formatExpression(e)}`,
            e,
          );
        }
        try {
          return fn.check(types);
        } catch (err) {
          if (err instanceof ArgProblem) {
            return this.fail(`${err.message}: ${formatExpression(e)}`, e.args[err.arg] ?? e);
          }
          throw err;
        }
      }
    }
  }
}

/**
 * Type-checks an expression against the names it may read and returns its result type. Throws
 * ExprError naming an unknown name, a type mismatch, or a wrong function or arity.
 */
export function checkExpression(expr: Expr, names: Readonly<Record<string, ExprType>>): ExprType {
  return new TypeInference(names, true).typeOf(expr);
}
