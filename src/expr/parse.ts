// Hand-written lexer and recursive-descent parser. Precedence, loosest first:
//   or (||)  <  and (&&)  <  not (!)  <  comparison, is [not] null, [not] in, [not] between
//   <  + -  <  * / %  <  unary -  <  literal, name, call, case, ( ... )
// Comparisons do not chain (`a < b < c` is an error), as in SQL where the result would be surprising.
import {
  ExprError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  children,
  type BinaryOp,
  type ComparisonOp,
  type Expr,
} from './ast.js';
import { lookupFunction } from './functions.js';

type Token =
  | { readonly t: 'num'; readonly value: number; readonly pos: number; readonly end: number }
  | { readonly t: 'str'; readonly value: string; readonly pos: number; readonly end: number }
  | { readonly t: 'ident'; readonly text: string; readonly pos: number; readonly end: number }
  | { readonly t: 'quoted'; readonly text: string; readonly pos: number; readonly end: number }
  | { readonly t: 'kw'; readonly text: string; readonly pos: number; readonly end: number }
  | { readonly t: 'op'; readonly text: string; readonly pos: number; readonly end: number }
  | { readonly t: 'eof'; readonly pos: number; readonly end: number };

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'between',
  'is',
  'null',
  'true',
  'false',
  'case',
  'when',
  'then',
  'else',
  'end',
]);

/** Words that cannot be bare names (write them in backticks). */
export function isKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase());
}

export const BARE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const TWO_CHAR_OPS = new Set(['<=', '>=', '!=', '<>', '==', '&&', '||']);
const ONE_CHAR_OPS = new Set(['+', '-', '*', '/', '%', '=', '<', '>', '!', '(', ')', ',']);

function isIdentStart(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return cp < 0x20 || cp === 0x7f
    ? `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
    : `'${c}'`;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1] ?? ''))) {
      while (i < n && isDigit(src[i]!)) i++;
      if (src[i] === '.') {
        i++;
        while (i < n && isDigit(src[i]!)) i++;
      }
      if (src[i] === 'e' || src[i] === 'E') {
        let j = i + 1;
        if (src[j] === '+' || src[j] === '-') j++;
        if (!isDigit(src[j] ?? '')) throw new ExprError(`malformed number at ${start}`, start);
        i = j;
        while (i < n && isDigit(src[i]!)) i++;
      }
      if (i < n && (isIdentPart(src[i]!) || src[i] === '.')) {
        throw new ExprError(`unexpected ${describeChar(src[i]!)} at ${i}`, i);
      }
      const value = Number(src.slice(start, i));
      if (!Number.isFinite(value)) throw new ExprError(`number out of range at ${start}`, start);
      out.push({ t: 'num', value, pos: start, end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new ExprError(`unterminated string starting at ${start}`, start);
        const d = src[i]!;
        if (d === c) {
          if (src[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\0') throw new ExprError(`NUL character in string at ${i}`, i);
        value += d;
        i++;
      }
      out.push({ t: 'str', value, pos: start, end: i });
      continue;
    }
    if (c === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw new ExprError(`unterminated quoted name starting at ${start}`, start);
        const d = src[i]!;
        if (d === '`') {
          if (src[i + 1] === '`') {
            text += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\0') throw new ExprError(`NUL character in name at ${i}`, i);
        text += d;
        i++;
      }
      if (text === '') throw new ExprError(`empty quoted name at ${start}`, start);
      out.push({ t: 'quoted', text, pos: start, end: i });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src[i]!)) i++;
      while (src[i] === '.' && isIdentStart(src[i + 1] ?? '')) {
        i++;
        while (i < n && isIdentPart(src[i]!)) i++;
      }
      const text = src.slice(start, i);
      if (!text.includes('.') && KEYWORDS.has(text.toLowerCase())) {
        out.push({ t: 'kw', text: text.toLowerCase(), pos: start, end: i });
      } else {
        out.push({ t: 'ident', text, pos: start, end: i });
      }
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      out.push({ t: 'op', text: two, pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      out.push({ t: 'op', text: c, pos: start, end: i + 1 });
      i++;
      continue;
    }
    throw new ExprError(`unexpected ${describeChar(String.fromCodePoint(src.codePointAt(i)!))} at ${i}`, i);
  }
  out.push({ t: 'eof', pos: n, end: n });
  return out;
}

const COMPARISON: Readonly<Record<string, ComparisonOp>> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

class Parser {
  private i = 0;
  private nesting = 0;
  private readonly depth = new WeakMap<Expr, number>();

  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  parse(): Expr {
    const e = this.parseOr();
    const t = this.peek();
    if (t.t !== 'eof') throw this.unexpected(t);
    return e;
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'op' && t.text === text;
  }
  private isKw(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'kw' && t.text === text;
  }
  private unexpected(t: Token, hint = ''): ExprError {
    if (t.t === 'eof') return new ExprError(`unexpected end of expression at ${t.pos}${hint}`, t.pos);
    const text = this.src.slice(t.pos, Math.min(t.end, t.pos + 40));
    return new ExprError(`unexpected '${text}' at ${t.pos}${hint}`, t.pos);
  }
  private expectOp(text: string): Token {
    const t = this.peek();
    if (t.t === 'op' && t.text === text) return this.next();
    throw this.unexpected(t, `, expected '${text}'`);
  }
  private expectKw(text: string): Token {
    const t = this.peek();
    if (t.t === 'kw' && t.text === text) return this.next();
    throw this.unexpected(t, `, expected '${text}'`);
  }

  /** Registers a node, computing its depth; rejects trees deeper than the limit. */
  private node<E extends Expr>(e: E): E {
    let d = 0;
    for (const c of children(e)) d = Math.max(d, this.depth.get(c) ?? 1);
    d += 1;
    if (d > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels at ${e.pos}`, e.pos);
    }
    this.depth.set(e, d);
    return e;
  }

  /** Guards recursion that does not create a node (parentheses), so hostile input cannot blow the stack. */
  private enter(pos: number): void {
    if (++this.nesting > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels at ${pos}`, pos);
    }
  }
  private leave(): void {
    this.nesting--;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isKw('or') || this.isOp('||')) {
      this.next();
      const right = this.parseAnd();
      left = this.node({ kind: 'binary', op: 'or', left, right, pos: left.pos });
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isKw('and') || this.isOp('&&')) {
      this.next();
      const right = this.parseNot();
      left = this.node({ kind: 'binary', op: 'and', left, right, pos: left.pos });
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isKw('not') || this.isOp('!')) {
      const t = this.next();
      this.enter(t.pos);
      const operand = this.parseNot();
      this.leave();
      return this.node({ kind: 'unary', op: 'not', operand, pos: t.pos });
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parseAdditive();
    const result = this.parseComparisonTail(left);
    if (result !== left) {
      const t = this.peek();
      const chained =
        (t.t === 'op' && t.text in COMPARISON) ||
        this.isKw('is') ||
        this.isKw('in') ||
        this.isKw('between') ||
        (this.isKw('not') && (this.isKw('in', 1) || this.isKw('between', 1)));
      if (chained) throw this.unexpected(t, ': comparisons cannot be chained, combine them with and');
    }
    return result;
  }

  private parseComparisonTail(left: Expr): Expr {
    const t = this.peek();
    if (t.t === 'op' && t.text in COMPARISON) {
      this.next();
      const right = this.parseAdditive();
      return this.node({ kind: 'binary', op: COMPARISON[t.text]!, left, right, pos: left.pos });
    }
    if (this.isKw('is')) {
      this.next();
      const negated = this.isKw('not');
      if (negated) this.next();
      this.expectKw('null');
      return this.node({ kind: 'isnull', operand: left, negated, pos: left.pos });
    }
    let negated = false;
    if (this.isKw('not') && (this.isKw('in', 1) || this.isKw('between', 1))) {
      this.next();
      negated = true;
    }
    if (this.isKw('in')) {
      this.next();
      const open = this.expectOp('(');
      this.enter(open.pos);
      const list: Expr[] = [this.parseOr()];
      while (this.isOp(',')) {
        this.next();
        list.push(this.parseOr());
      }
      this.expectOp(')');
      this.leave();
      return this.node({ kind: 'in', operand: left, list, negated, pos: left.pos });
    }
    if (this.isKw('between')) {
      this.next();
      const low = this.parseAdditive();
      this.expectKw('and');
      const high = this.parseAdditive();
      return this.node({ kind: 'between', operand: left, low, high, negated, pos: left.pos });
    }
    return left;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.next() as { text: string }).text as BinaryOp;
      const right = this.parseMultiplicative();
      left = this.node({ kind: 'binary', op, left, right, pos: left.pos });
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.next() as { text: string }).text as BinaryOp;
      const right = this.parseUnary();
      left = this.node({ kind: 'binary', op, left, right, pos: left.pos });
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOp('-')) {
      const t = this.next();
      this.enter(t.pos);
      const operand = this.parseUnary();
      this.leave();
      return this.node({ kind: 'unary', op: '-', operand, pos: t.pos });
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return this.node({ kind: 'literal', value: t.value, pos: t.pos });
      case 'str':
        return this.node({ kind: 'literal', value: t.value, pos: t.pos });
      case 'quoted':
        return this.node({ kind: 'name', name: t.text, pos: t.pos });
      case 'ident':
        if (this.isOp('(')) return this.parseCall(t.text, t.pos);
        return this.node({ kind: 'name', name: t.text, pos: t.pos });
      case 'kw':
        if (t.text === 'true' || t.text === 'false') {
          return this.node({ kind: 'literal', value: t.text === 'true', pos: t.pos });
        }
        if (t.text === 'null') return this.node({ kind: 'literal', value: null, pos: t.pos });
        if (t.text === 'case') return this.parseCase(t.pos);
        throw this.unexpected(t);
      case 'op':
        if (t.text === '(') {
          this.enter(t.pos);
          const e = this.parseOr();
          this.expectOp(')');
          this.leave();
          return e;
        }
        throw this.unexpected(t);
      case 'eof':
        throw this.unexpected(t);
    }
  }

  private parseCall(written: string, pos: number): Expr {
    const fn = lookupFunction(written);
    if (!fn) throw new ExprError(`unknown function '${written}' at ${pos}`, pos);
    const open = this.expectOp('(');
    this.enter(open.pos);
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      args.push(this.parseOr());
      while (this.isOp(',')) {
        this.next();
        args.push(this.parseOr());
      }
    }
    this.expectOp(')');
    this.leave();
    if (args.length < fn.minArgs || args.length > fn.maxArgs) {
      throw new ExprError(`${arityMessage(fn.name, fn.minArgs, fn.maxArgs, args.length)} at ${pos}`, pos);
    }
    return this.node({ kind: 'call', name: written.toLowerCase(), args, pos });
  }

  private parseCase(pos: number): Expr {
    this.enter(pos);
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.isKw('when')) {
      this.next();
      const when = this.parseOr();
      this.expectKw('then');
      const then = this.parseOr();
      whens.push({ when, then });
    }
    if (whens.length === 0) throw this.unexpected(this.peek(), ", expected 'when'");
    let otherwise: Expr | null = null;
    if (this.isKw('else')) {
      this.next();
      otherwise = this.parseOr();
    }
    this.expectKw('end');
    this.leave();
    return this.node({ kind: 'case', whens, else: otherwise, pos });
  }
}

export function arityMessage(name: string, min: number, max: number, got: number): string {
  const want =
    min === max
      ? `${min} argument${min === 1 ? '' : 's'}`
      : max === Infinity
        ? `at least ${min} argument${min === 1 ? '' : 's'}`
        : `${min} to ${max} arguments`;
  return `${name}() takes ${want}, got ${got}`;
}

/**
 * Parses an expression. Throws ExprError with the character offset of the problem; input longer than
 * MAX_EXPRESSION_LENGTH or nesting deeper than MAX_EXPRESSION_DEPTH is rejected before it can exhaust
 * the stack.
 */
export function parseExpression(text: string): Expr {
  if (typeof text !== 'string') throw new ExprError('expression must be a string', 0);
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new ExprError(
      `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
      MAX_EXPRESSION_LENGTH,
    );
  }
  if (text.trim() === '') throw new ExprError('empty expression at 0', 0);
  return new Parser(text, tokenize(text)).parse();
}
