import type { Expr } from './ast.js';
import { BARE_NAME, isKeyword } from './parse.js';

// Binding strength, loosest first; a child looser than its context is parenthesised.
const OR = 1;
const AND = 2;
const NOT = 3;
const COMPARE = 4;
const ADD = 5;
const MUL = 6;
const NEG = 7;
const ATOM = 8;

function precedence(e: Expr): number {
  switch (e.kind) {
    case 'binary':
      if (e.op === 'or') return OR;
      if (e.op === 'and') return AND;
      if (e.op === '+' || e.op === '-') return ADD;
      if (e.op === '*' || e.op === '/' || e.op === '%') return MUL;
      return COMPARE;
    case 'unary':
      return e.op === 'not' ? NOT : NEG;
    case 'in':
    case 'between':
    case 'isnull':
      return COMPARE;
    case 'literal':
      return typeof e.value === 'number' && (e.value < 0 || Object.is(e.value, -0)) ? NEG : ATOM;
    default:
      return ATOM;
  }
}

export function formatName(name: string): string {
  return BARE_NAME.test(name) && !isKeyword(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}

function fmt(e: Expr, min: number): string {
  const s = render(e);
  return precedence(e) < min ? `(${s})` : s;
}

function render(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      if (e.value === null) return 'null';
      if (typeof e.value === 'string') return `'${e.value.replace(/'/g, "''")}'`;
      return String(e.value);
    case 'name':
      return formatName(e.name);
    case 'unary':
      if (e.op === 'not') return `not ${fmt(e.operand, NOT)}`;
      return `-${fmt(e.operand, ATOM)}`;
    case 'binary': {
      const p = precedence(e);
      // Comparisons do not chain, so both sides bind tighter than a comparison.
      const l = p === COMPARE ? ADD : p;
      return `${fmt(e.left, l)} ${e.op} ${fmt(e.right, p === COMPARE ? ADD : p + 1)}`;
    }
    case 'call':
      return `${e.name}(${e.args.map((a) => fmt(a, OR)).join(', ')})`;
    case 'in':
      return `${fmt(e.operand, ADD)} ${e.negated ? 'not in' : 'in'} (${e.list.map((a) => fmt(a, OR)).join(', ')})`;
    case 'between':
      return `${fmt(e.operand, ADD)} ${e.negated ? 'not between' : 'between'} ${fmt(e.low, ADD)} and ${fmt(e.high, ADD)}`;
    case 'isnull':
      return `${fmt(e.operand, ADD)} is ${e.negated ? 'not null' : 'null'}`;
    case 'case': {
      const parts = e.whens.map((w) => `when ${fmt(w.when, OR)} then ${fmt(w.then, OR)}`);
      if (e.else) parts.push(`else ${fmt(e.else, OR)}`);
      return `case ${parts.join(' ')} end`;
    }
  }
}

/** Canonical source text of an expression (used in error messages); parses back to the same tree. */
export function formatExpression(expr: Expr): string {
  return render(expr);
}
