import { ExprError, type Expr } from './ast.js';
import { formatExpression } from './format.js';
import { ArgProblem, compareValues, lookupFunction } from './functions.js';
import { finite, fromEnv, runtimeType, type Value } from './values.js';

type Env = Readonly<Record<string, unknown>>;

function and3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}
function or3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
}
function not3(a: boolean | null): boolean | null {
  return a === null ? null : !a;
}

class Evaluator {
  constructor(private readonly env: Env) {}

  private mismatch(message: string, e: Expr): ExprError {
    return new ExprError(`${message}: ${formatExpression(e)}`, e.pos);
  }

  private bool(v: Value, e: Expr, what: string): boolean | null {
    if (v === null || typeof v === 'boolean') return v;
    throw this.mismatch(`${what} needs a boolean, got ${runtimeType(v)}`, e);
  }

  private num(v: Value, e: Expr, what: string): number | null {
    if (v === null || typeof v === 'number') return v;
    throw this.mismatch(`'${what}' needs numbers, got ${runtimeType(v)}`, e);
  }

  /** Three-valued comparison: null when either side is null. */
  private compare(a: Value, b: Value, e: Expr, ordering: boolean): number | null {
    if (a === null || b === null) return null;
    const c = compareValues(a, b);
    if (c === undefined) throw this.mismatch(`cannot compare ${runtimeType(a)} with ${runtimeType(b)}`, e);
    if (ordering && typeof a === 'boolean') throw this.mismatch('cannot order booleans', e);
    return c;
  }

  eval(e: Expr): Value {
    switch (e.kind) {
      case 'literal':
        return e.value;
      case 'name': {
        if (!Object.prototype.hasOwnProperty.call(this.env, e.name)) {
          throw new ExprError(`unknown column or fact '${e.name}'`, e.pos);
        }
        const v = fromEnv(this.env[e.name]);
        if (v === undefined) {
          throw new ExprError(`value of '${e.name}' is not a number, string, boolean, date or null`, e.pos);
        }
        return v;
      }
      case 'unary': {
        const v = this.eval(e.operand);
        if (e.op === 'not') return not3(this.bool(v, e, "'not'"));
        const x = this.num(v, e, '-');
        return x === null ? null : -x;
      }
      case 'binary':
        return this.binary(e);
      case 'in': {
        const x = this.eval(e.operand);
        let result: boolean | null = false;
        for (const item of e.list) {
          const c = this.compare(x, this.eval(item), e, false);
          if (c === 0) {
            result = true;
            break;
          }
          if (c === null) result = null;
        }
        if (x === null) result = null;
        return e.negated ? not3(result) : result;
      }
      case 'between': {
        const x = this.eval(e.operand);
        const lo = this.compare(x, this.eval(e.low), e, true);
        const hi = this.compare(x, this.eval(e.high), e, true);
        const r = and3(lo === null ? null : lo >= 0, hi === null ? null : hi <= 0);
        return e.negated ? not3(r) : r;
      }
      case 'isnull': {
        const isNull = this.eval(e.operand) === null;
        return e.negated ? !isNull : isNull;
      }
      case 'case':
        for (const w of e.whens) {
          if (this.bool(this.eval(w.when), w.when, 'a case condition') === true) return this.eval(w.then);
        }
        return e.else ? this.eval(e.else) : null;
      case 'call': {
        const fn = lookupFunction(e.name);
        if (!fn) throw new ExprError(`unknown function '${e.name}'`, e.pos);
        const args = e.args.map((a) => this.eval(a));
        try {
          return fn.evaluate(args);
        } catch (err) {
          if (err instanceof ArgProblem) {
            throw new ExprError(`${err.message}: ${formatExpression(e)}`, (e.args[err.arg] ?? e).pos);
          }
          throw err;
        }
      }
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Value {
    const a = this.eval(e.left);
    const b = this.eval(e.right);
    switch (e.op) {
      case 'and':
        return and3(this.bool(a, e, "'and'"), this.bool(b, e, "'and'"));
      case 'or':
        return or3(this.bool(a, e, "'or'"), this.bool(b, e, "'or'"));
      case '=':
      case '!=': {
        const c = this.compare(a, b, e, false);
        return c === null ? null : (c === 0) === (e.op === '=');
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const c = this.compare(a, b, e, true);
        if (c === null) return null;
        return e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
      }
      default: {
        if (e.op === '+' && (typeof a === 'string' || typeof b === 'string')) {
          throw this.mismatch("'+' does not join strings, use concat(a, b)", e);
        }
        const x = this.num(a, e, e.op);
        const y = this.num(b, e, e.op);
        if (x === null || y === null) return null;
        switch (e.op) {
          case '+':
            return finite(x + y);
          case '-':
            return finite(x - y);
          case '*':
            return finite(x * y);
          case '/':
            return y === 0 ? null : finite(x / y);
          case '%':
            return y === 0 ? null : finite(x % y);
        }
      }
    }
  }
}

/**
 * Evaluates an expression over one row or set of facts with SQL semantics: null propagates, `and`/`or`
 * are three-valued, x / 0 and x % 0 are null, numbers stay finite (overflow gives null). Values may be
 * numbers, bigints, strings, booleans, Dates (UTC fields = wall clock), null or undefined (= null);
 * ISO strings are accepted wherever a date is expected. Dates come back as Date objects. Throws
 * ExprError for a name missing from `env` and for runtime type mismatches.
 */
export function evaluate(expr: Expr, env: Readonly<Record<string, unknown>>): unknown {
  return new Evaluator(env).eval(expr);
}
