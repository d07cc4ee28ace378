import { describeRune, isAlphaNumeric, isTemplateSpace, runeAt } from './unicode';

/*
 * A pull lexer for Go text/template as built into Packer 1.6.6 (Go 1.19
 * rules: newlines inside actions, trim markers, break/continue keywords).
 *
 * It is lazy on purpose: Go's parser reads tokens one at a time and reports
 * the first problem it reaches, so a bad token late in the text must not
 * hide a parse error earlier on.
 */

export const KEYWORDS = ['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with'] as const;
export type Keyword = typeof KEYWORDS[number];

export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space'
  | 'identifier' | 'field' | 'variable' | 'dot'
  | 'bool' | 'number' | 'charConstant' | 'complex' | 'string' | 'rawString'
  | 'pipe' | 'leftParen' | 'rightParen' | 'declare' | 'assign' | 'char'
  | 'eof' | 'error'
  | Keyword;

export interface Token {
  readonly type: TokenType;
  readonly value: string;
  /** where the token starts in the template text */
  readonly offset: number;
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const TRIM_MARKER_LENGTH = 2;
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);
const TERMINATORS = '.,|:)(';

type State = 'text' | 'action' | 'done';

export class Lexer {
  private pos = 0;
  private start = 0;
  private width = 0;
  private parenDepth = 0;
  private state: State = 'text';
  private readonly pending: Token[] = [];
  private last: Token | undefined;

  constructor(private readonly input: string) {}

  next(): Token {
    let token = this.pending.shift();
    while (token === undefined) {
      if (this.state === 'done') return this.last ?? { type: 'eof', value: '', offset: this.input.length };
      token = this.state === 'text' ? this.lexText() : this.lexInsideAction();
    }
    if (token.type === 'eof' || token.type === 'error') {
      this.state = 'done';
      this.last = token;
    }
    return token;
  }

  private emit(type: TokenType): Token {
    const token = { type, value: this.input.slice(this.start, this.pos), offset: this.start };
    this.start = this.pos;
    return token;
  }

  private fail(message: string): Token {
    return { type: 'error', value: message, offset: this.start };
  }

  private nextRune(): string | undefined {
    const ch = runeAt(this.input, this.pos);
    this.width = ch?.length ?? 0;
    this.pos += this.width;
    return ch;
  }

  private peek(): string | undefined {
    return runeAt(this.input, this.pos);
  }

  private backup(): void {
    this.pos -= this.width;
  }

  private accept(valid: string): boolean {
    const ch = this.nextRune();
    if (ch !== undefined && valid.includes(ch)) return true;
    this.backup();
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid)) { /* absorb */ }
  }

  /** `{{- ` trims the text before it; the dash must be followed by a space. */
  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isTemplateSpace(this.input[at + 1]);
  }

  /** ` -}}` trims the text after it; the dash must follow a space. */
  private atRightDelim(): { delim: boolean; trim: boolean } {
    const s = this.input;
    if (isTemplateSpace(s[this.pos]) && s[this.pos + 1] === '-' && s.startsWith(RIGHT_DELIM, this.pos + TRIM_MARKER_LENGTH)) {
      return { delim: true, trim: true };
    }
    return { delim: s.startsWith(RIGHT_DELIM, this.pos), trim: false };
  }

  private lexText(): Token | undefined {
    const s = this.input;
    const delimAt = s.indexOf(LEFT_DELIM, this.pos);
    if (delimAt === -1) {
      this.pos = s.length;
      this.state = 'done';
      return this.pos > this.start ? this.emit('text') : { type: 'eof', value: '', offset: s.length };
    }
    let textEnd = delimAt;
    if (this.hasLeftTrimMarker(delimAt + LEFT_DELIM.length)) {
      while (textEnd > this.start && isTemplateSpace(s[textEnd - 1])) textEnd--;
    }
    const text = textEnd > this.start ? { type: 'text' as const, value: s.slice(this.start, textEnd), offset: this.start } : undefined;
    this.pos = delimAt;
    this.start = delimAt;
    const delim = this.lexLeftDelim();
    if (text) {
      if (delim) this.pending.push(delim);
      return text;
    }
    return delim;
  }

  /** Returns undefined for a comment, which produces no token. */
  private lexLeftDelim(): Token | undefined {
    const delimStart = this.pos;
    this.pos += LEFT_DELIM.length;
    const afterMarker = this.hasLeftTrimMarker(this.pos) ? TRIM_MARKER_LENGTH : 0;
    if (this.input.startsWith('/*', this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.start = this.pos;
      return this.lexComment();
    }
    const token: Token = { type: 'leftDelim', value: LEFT_DELIM, offset: delimStart };
    this.pos += afterMarker;
    this.start = this.pos;
    this.parenDepth = 0;
    this.state = 'action';
    return token;
  }

  private lexComment(): Token | undefined {
    const close = this.input.indexOf('*/', this.pos + 2);
    if (close === -1) return this.fail('unclosed comment');
    this.pos = close + 2;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.fail('comment ends before closing delimiter');
    this.pos += (trim ? TRIM_MARKER_LENGTH : 0) + RIGHT_DELIM.length;
    if (trim) this.skipLeadingSpace();
    this.start = this.pos;
    return undefined;
  }

  private skipLeadingSpace(): void {
    while (isTemplateSpace(this.input[this.pos])) this.pos++;
  }

  private lexRightDelim(): Token {
    const { trim } = this.atRightDelim();
    if (trim) {
      this.pos += TRIM_MARKER_LENGTH;
      this.start = this.pos;
    }
    this.pos += RIGHT_DELIM.length;
    const token = this.emit('rightDelim');
    if (trim) {
      this.skipLeadingSpace();
      this.start = this.pos;
    }
    this.state = 'text';
    return token;
  }

  private lexInsideAction(): Token {
    if (this.atRightDelim().delim) {
      return this.parenDepth === 0 ? this.lexRightDelim() : this.fail('unclosed left paren');
    }
    const ch = this.nextRune();
    if (ch === undefined) return this.fail('unclosed action');
    if (isTemplateSpace(ch)) {
      this.backup();
      return this.lexSpace();
    }
    switch (ch) {
      case '=': return this.emit('assign');
      case ':': return this.nextRune() === '=' ? this.emit('declare') : this.fail('expected :=');
      case '|': return this.emit('pipe');
      case '"': return this.lexQuote();
      case '`': return this.lexRawQuote();
      case '$': return this.lexVariable();
      case '\'': return this.lexChar();
      case '(':
        this.parenDepth++;
        return this.emit('leftParen');
      case ')': {
        const token = this.emit('rightParen');
        this.parenDepth--;
        if (this.parenDepth < 0) {
          this.pending.push(this.fail(`unexpected right paren ${describeRune(ch)}`));
          this.state = 'done';
        }
        return token;
      }
    }
    if (ch === '.') {
      const following = this.input[this.pos];
      if (following === undefined || following < '0' || following > '9') return this.lexFieldOrVariable('field');
    }
    if (ch === '.' || ch === '+' || ch === '-' || (ch >= '0' && ch <= '9')) {
      this.backup();
      return this.lexNumber();
    }
    if (isAlphaNumeric(ch)) {
      this.backup();
      return this.lexIdentifier();
    }
    if (ch >= ' ' && ch <= '~') return this.emit('char');
    return this.fail(`unrecognized character in action: ${describeRune(ch)}`);
  }

  /** A run of spaces, unless it is the space of a ` -}}` marker. */
  private lexSpace(): Token {
    let count = 0;
    while (isTemplateSpace(this.peek())) {
      this.nextRune();
      count++;
    }
    const s = this.input;
    if (s[this.pos] === '-' && s.startsWith(RIGHT_DELIM, this.pos + 1)) {
      this.pos--;
      if (count === 1) return this.lexRightDelim();
    }
    return this.emit('space');
  }

  private atTerminator(): boolean {
    const ch = this.peek();
    return ch === undefined || isTemplateSpace(ch) || TERMINATORS.includes(ch) || ch === RIGHT_DELIM[0];
  }

  private lexIdentifier(): Token {
    while (isAlphaNumeric(this.peek())) this.nextRune();
    if (!this.atTerminator()) return this.fail(`bad character ${describeRune(this.peek() ?? '')}`);
    const word = this.input.slice(this.start, this.pos);
    if (KEYWORD_SET.has(word)) return this.emit(word as Keyword);
    return this.emit(word === 'true' || word === 'false' ? 'bool' : 'identifier');
  }

  private lexVariable(): Token {
    return this.atTerminator() ? this.emit('variable') : this.lexFieldOrVariable('variable');
  }

  /** `.Name` or `$name`; the `.` or `$` has been read. */
  private lexFieldOrVariable(type: 'field' | 'variable'): Token {
    if (this.atTerminator()) return this.emit(type === 'variable' ? 'variable' : 'dot');
    while (isAlphaNumeric(this.peek())) this.nextRune();
    if (!this.atTerminator()) return this.fail(`bad character ${describeRune(this.peek() ?? '')}`);
    return this.emit(type);
  }

  private lexChar(): Token {
    for (;;) {
      const ch = this.nextRune();
      if (ch === '\\') {
        const escaped = this.nextRune();
        if (escaped !== undefined && escaped !== '\n') continue;
      }
      if (ch === undefined || ch === '\n' || ch === '\\') return this.fail('unterminated character constant');
      if (ch === '\'') return this.emit('charConstant');
    }
  }

  private lexQuote(): Token {
    for (;;) {
      const ch = this.nextRune();
      if (ch === '\\') {
        const escaped = this.nextRune();
        if (escaped !== undefined && escaped !== '\n') continue;
      }
      if (ch === undefined || ch === '\n' || ch === '\\') return this.fail('unterminated quoted string');
      if (ch === '"') return this.emit('string');
    }
  }

  private lexRawQuote(): Token {
    const close = this.input.indexOf('`', this.pos);
    if (close === -1) return this.fail('unterminated raw quoted string');
    this.pos = close + 1;
    return this.emit('rawString');
  }

  private lexNumber(): Token {
    if (!this.scanNumber()) return this.fail(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.fail(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
      }
      return this.emit('complex');
    }
    return this.emit('number');
  }

  /** Deliberately loose, like Go's: the parser rejects what strconv cannot read. */
  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.nextRune();
      return false;
    }
    return true;
  }
}
