// Compiles an expression to DuckDB SQL. Nothing from the source text reaches the SQL except through
// escaping: numbers are rendered from finite JS numbers, strings as literals with quotes doubled,
// names only through the caller's quoteIdent, functions only through the allow-list in functions.ts.
import { ExprError, type Expr, type ExprType } from './ast.js';
import { TypeInference } from './check.js';
import { formatExpression } from './format.js';
import { ArgProblem, lookupFunction, sqlFinite, sqlLet, sqlNum, unifyTypes } from './functions.js';

function literal(value: number | string | boolean | null, pos: number): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ExprError(`number literal must be finite: ${String(value)}`, pos);
    // Every number is a DOUBLE, so arithmetic follows IEEE doubles as in JavaScript.
    return `CAST(${String(value)} AS DOUBLE)`;
  }
  if (value.includes('\0')) throw new ExprError('NUL character in string literal', pos);
  return `'${value.replace(/'/g, "''")}'`;
}

class Compiler {
  constructor(
    private readonly quoteIdent: (name: string) => string,
    private readonly types: TypeInference,
  ) {}

  /** A child compiled and, when its group has a known type, brought to that type's SQL type. */
  private typed(e: Expr, t: ExprType): string {
    const s = this.sql(e);
    if (t === 'number') return sqlNum(s);
    if (t === 'date') return `TRY_CAST(${s} AS TIMESTAMP)`;
    return s;
  }

  private unify(exprs: readonly Expr[], at: Expr): ExprType {
    try {
      return unifyTypes(
        exprs.map((x) => this.types.typeOf(x)),
        'expression',
      );
    } catch (err) {
      if (err instanceof ArgProblem) throw new ExprError(`${err.message}: ${formatExpression(at)}`, at.pos);
      throw err;
    }
  }

  sql(e: Expr): string {
    switch (e.kind) {
      case 'literal':
        return literal(e.value, e.pos);
      case 'name': {
        const q = this.quoteIdent(e.name);
        if (typeof q !== 'string' || q === '') throw new ExprError(`cannot quote name '${e.name}'`, e.pos);
        return q;
      }
      case 'unary':
        return e.op === 'not' ? `(NOT ${this.sql(e.operand)})` : `(- ${sqlNum(this.sql(e.operand))})`;
      case 'binary': {
        switch (e.op) {
          case 'and':
          case 'or':
            return `(${this.sql(e.left)} ${e.op.toUpperCase()} ${this.sql(e.right)})`;
          // x / 0 and x % 0 are ±Infinity or NaN for doubles, which finite() turns into NULL.
          case '+':
          case '-':
          case '*':
          case '/':
          case '%':
            return sqlFinite(`(${sqlNum(this.sql(e.left))} ${e.op} ${sqlNum(this.sql(e.right))})`);
          default: {
            const t = this.unify([e.left, e.right], e);
            const op = e.op === '!=' ? '<>' : e.op;
            return `(${this.typed(e.left, t)} ${op} ${this.typed(e.right, t)})`;
          }
        }
      }
      case 'in': {
        const t = this.unify([e.operand, ...e.list], e);
        const list = e.list.map((x) => this.typed(x, t)).join(', ');
        return `(${this.typed(e.operand, t)} ${e.negated ? 'NOT IN' : 'IN'} (${list}))`;
      }
      case 'between': {
        // Bound through a struct so DuckDB's rewrite to x >= low AND x <= high does not repeat x.
        const t = this.unify([e.operand, e.low, e.high], e);
        const struct = `{'x': ${this.typed(e.operand, t)}, 'lo': ${this.typed(e.low, t)}, 'hi': ${this.typed(e.high, t)}}`;
        return sqlLet(struct, `v.x ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} v.lo AND v.hi`);
      }
      case 'isnull':
        return `(${this.sql(e.operand)} ${e.negated ? 'IS NOT NULL' : 'IS NULL'})`;
      case 'case': {
        const results = e.whens.map((w) => w.then);
        if (e.else) results.push(e.else);
        const t = this.unify(results, e);
        const parts = e.whens.map((w) => `WHEN ${this.sql(w.when)} THEN ${this.typed(w.then, t)}`);
        return `CASE ${parts.join(' ')} ELSE ${e.else ? this.typed(e.else, t) : 'NULL'} END`;
      }
      case 'call': {
        const fn = lookupFunction(e.name);
        if (!fn) throw new ExprError(`unknown function '${e.name}'`, e.pos);
        if (e.args.length < fn.minArgs || e.args.length > fn.maxArgs) {
          throw new ExprError(`wrong number of arguments: ${formatExpression(e)}`, e.pos);
        }
        try {
          return fn.sql(
            e.args.map((a) => this.sql(a)),
            e.args.map((a) => this.types.typeOf(a)),
          );
        } catch (err) {
          if (err instanceof ArgProblem) {
            throw new ExprError(`${err.message}: ${formatExpression(e)}`, (e.args[err.arg] ?? e).pos);
          }
          throw err;
        }
      }
    }
  }
}

/**
 * DuckDB SQL for an expression, to be used as a column expression (SELECT ... / WHERE ...). Check the
 * expression first with checkExpression. `types`, when given, are the column types: a number column
 * then converts to text (to_string, concat) exactly as evaluate does; without it names are untyped
 * and converted with DuckDB's own CAST.
 */
export function toSql(
  expr: Expr,
  quoteIdent: (name: string) => string,
  types?: Readonly<Record<string, ExprType>>,
): string {
  return new Compiler(quoteIdent, new TypeInference(types, false)).sql(expr);
}

/** DuckDB's identifier quoting: double quotes, embedded quotes doubled, NUL rejected. */
export function quoteDuckDbIdent(name: string): string {
  if (name.includes('\0')) throw new ExprError('NUL character in a name', 0);
  return `"${name.replace(/"/g, '""')}"`;
}
