import {
  ActionNode, ArgNode, BranchNode, CommandNode, describeNode, ListNode, LoopControlNode, Node, PipeNode, TemplateNode, VariableNode,
} from './ast';
import { locate, TEMPLATE_NAME, TemplateSyntaxError } from './errors';
import { quote } from './go-fmt';
import { Lexer, Token, TokenType } from './lexer';
import { parseNumber, unquoteChar, unquoteString } from './literals';

/*
 * A recursive-descent parser that follows Go's text/template/parse closely,
 * including its three-token look-ahead, so that Kiln reports the same first
 * error, with the same wording and line, as Packer.
 */

/** A parsed template: the main body and any `{{define}}`d templates. */
export interface TemplateTree {
  readonly text: string;
  readonly root: ListNode;
  readonly templates: ReadonlyMap<string, ListNode>;
}

export interface ParserOptions {
  /** Go checks function names while parsing: `function "foo" not defined` is a syntax error. */
  readonly isFunction: (name: string) => boolean;
}

/** `{{end}}` and `{{else}}` only exist while parsing; they close lists. */
interface Delimiter {
  readonly kind: 'end' | 'else';
  readonly offset: number;
}

type Parsed = Node | Delimiter;

function isDelimiter(parsed: Parsed): parsed is Delimiter {
  return parsed.kind === 'end' || parsed.kind === 'else';
}

const KEYWORD_TOKENS: ReadonlySet<TokenType> = new Set<TokenType>([
  'dot', 'block', 'break', 'continue', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with',
]);

const OPERAND_STARTS: ReadonlySet<TokenType> = new Set<TokenType>([
  'bool', 'charConstant', 'complex', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen',
]);

/** Go's item.String(), used in `unexpected X in Y`. */
function describeToken(token: Token): string {
  if (token.type === 'eof') return 'EOF';
  if (token.type === 'error') return token.value;
  if (KEYWORD_TOKENS.has(token.type)) return `<${token.value}>`;
  const runes = [...token.value];
  return runes.length > 10 ? `${quote(runes.slice(0, 10).join(''))}...` : quote(token.value);
}

function isEmptyList(list: ListNode): boolean {
  return list.nodes.every((node) => node.kind === 'text' && node.text.trim() === '');
}

class Parser {
  private readonly lexer: Lexer;
  /** Go's token[3]/peekCount look-ahead buffer */
  private readonly tokens: Token[] = [];
  private peekCount = 0;
  /** the most recently lexed token: Go reports syntax errors on its line */
  private lastLexed: Token = { type: 'eof', value: '', offset: 0 };
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionOffset: number | undefined;
  private readonly templates = new Map<string, ListNode>();

  constructor(private readonly text: string, private readonly options: ParserOptions) {
    this.lexer = new Lexer(text);
  }

  parseTree(): TemplateTree {
    const nodes: Node[] = [];
    const offset = this.peek().offset;
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const delim = this.next();
        if (this.nextNonSpace().type === 'define') {
          this.withFreshScope(() => this.parseDefinition());
          continue;
        }
        this.backup2(delim);
      }
      const node = this.textOrAction();
      if (isDelimiter(node)) this.fail(`unexpected {{${node.kind}}}`);
      nodes.push(node);
    }
    let root: ListNode = { kind: 'list', offset, nodes };
    const definedRoot = this.templates.get(TEMPLATE_NAME);
    if (definedRoot) {
      if (!isEmptyList(root)) this.fail(`template: multiple definition of template ${quote(TEMPLATE_NAME)}`);
      root = definedRoot;
    }
    return { text: this.text, root, templates: this.templates };
  }

  // --- token buffer -------------------------------------------------------

  private lex(): Token {
    this.lastLexed = this.lexer.next();
    return this.lastLexed;
  }

  private next(): Token {
    if (this.peekCount > 0) {
      this.peekCount--;
    } else {
      this.tokens[0] = this.lex();
    }
    return this.tokens[this.peekCount];
  }

  private backup(): void {
    this.peekCount++;
  }

  /** Push back two tokens; `first` is the one that will be read first. */
  private backup2(first: Token): void {
    this.tokens[1] = first;
    this.peekCount = 2;
  }

  private backup3(first: Token, second: Token): void {
    this.tokens[1] = second;
    this.tokens[2] = first;
    this.peekCount = 3;
  }

  private peek(): Token {
    if (this.peekCount > 0) return this.tokens[this.peekCount - 1];
    this.peekCount = 1;
    this.tokens[0] = this.lex();
    return this.tokens[0];
  }

  private nextNonSpace(): Token {
    let token = this.next();
    while (token.type === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Token {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // --- errors -------------------------------------------------------------

  private fail(reason: string): never {
    throw new TemplateSyntaxError(reason, this.text, this.lastLexed.offset);
  }

  private unexpected(token: Token, context: string): never {
    if (token.type === 'error') {
      let extra = '';
      if (this.actionOffset !== undefined) {
        const actionLine = locate(this.text, this.actionOffset).line;
        if (actionLine !== locate(this.text, token.offset).line) {
          extra = token.value.endsWith(' action') ? ` started at ${TEMPLATE_NAME}:${actionLine}` : ` in action started at ${TEMPLATE_NAME}:${actionLine}`;
        }
      }
      this.fail(token.value + extra);
    }
    this.fail(`unexpected ${describeToken(token)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const token = this.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  /** Defined templates and block bodies start with only `$` in scope. */
  private withFreshScope<T>(body: () => T): T {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      return body();
    } finally {
      this.vars = saved.vars;
      this.rangeDepth = saved.rangeDepth;
    }
  }

  // --- structure ----------------------------------------------------------

  private parseDefinition(): void {
    const context = 'define clause';
    const nameToken = this.nextNonSpace();
    if (nameToken.type !== 'string' && nameToken.type !== 'rawString') this.unexpected(nameToken, context);
    const name = this.unquote(nameToken.value);
    this.expect('rightDelim', context);
    const { list, next } = this.itemList();
    if (next.kind !== 'end') this.fail(`unexpected {{${next.kind}}} in ${context}`);
    this.define(name, list);
  }

  private define(name: string, list: ListNode): void {
    const existing = this.templates.get(name);
    if (existing && !isEmptyList(existing) && !isEmptyList(list)) {
      this.fail(`template: multiple definition of template ${quote(name)}`);
    }
    if (!existing || isEmptyList(existing)) this.templates.set(name, list);
  }

  private itemList(): { list: ListNode; next: Delimiter } {
    const nodes: Node[] = [];
    const offset = this.peekNonSpace().offset;
    while (this.peekNonSpace().type !== 'eof') {
      const node = this.textOrAction();
      if (isDelimiter(node)) return { list: { kind: 'list', offset, nodes }, next: node };
      nodes.push(node);
    }
    this.fail('unexpected EOF');
  }

  private textOrAction(): Parsed {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'text':
        return { kind: 'text', offset: token.offset, text: token.value };
      case 'leftDelim': {
        const saved = this.actionOffset;
        this.actionOffset = token.offset;
        try {
          return this.action();
        } finally {
          this.actionOffset = saved;
        }
      }
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Parsed {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'block': return this.blockControl();
      case 'break':
      case 'continue': return this.loopControl(token);
      case 'else': return this.elseControl();
      case 'end': return { kind: 'end', offset: this.expect('rightDelim', 'end').offset };
      case 'if': return this.branch('if');
      case 'range': return this.branch('range');
      case 'template': return this.templateControl();
      case 'with': return this.branch('with');
    }
    this.backup();
    const start = this.peek();
    const node: ActionNode = { kind: 'action', offset: start.offset, pipe: this.pipeline('command', 'rightDelim') };
    return node;
  }

  private loopControl(token: Token): LoopControlNode {
    const kind = token.type === 'break' ? 'break' : 'continue';
    const after = this.nextNonSpace();
    if (after.type !== 'rightDelim') this.unexpected(after, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.fail(`{{${kind}}} outside {{range}}`);
    return { kind, offset: token.offset };
  }

  private elseControl(): Delimiter {
    const peeked = this.peekNonSpace();
    // `{{else if ...}}` is read as `{{else}}{{if ...}}...{{end}}` sharing one {{end}}.
    if (peeked.type === 'if') return { kind: 'else', offset: peeked.offset };
    return { kind: 'else', offset: this.expect('rightDelim', 'else').offset };
  }

  private branch(kind: BranchNode['kind']): BranchNode {
    const savedVars = this.vars.length;
    try {
      const pipe = this.pipeline(kind, 'rightDelim');
      if (kind === 'range') this.rangeDepth++;
      const body = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (body.next.kind === 'else') {
        if (kind === 'if' && this.peek().type === 'if') {
          this.next();
          elseList = { kind: 'list', offset: body.next.offset, nodes: [this.branch('if')] };
        } else {
          const otherwise = this.itemList();
          if (otherwise.next.kind !== 'end') this.fail(`expected end; found {{${otherwise.next.kind}}}`);
          elseList = otherwise.list;
        }
      }
      return { kind, offset: pipe.offset, pipe, list: body.list, elseList };
    } finally {
      this.vars.length = savedVars;
    }
  }

  private templateName(token: Token, context: string): string {
    if (token.type !== 'string' && token.type !== 'rawString') this.unexpected(token, context);
    return this.unquote(token.value);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', offset: token.offset, name, pipe };
  }

  /** `{{block "x" pipeline}}body{{end}}` defines x and runs it in place. */
  private blockControl(): TemplateNode {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const body = this.withFreshScope(() => this.itemList());
    if (body.next.kind !== 'end') this.fail(`unexpected {{${body.next.kind}}} in ${context}`);
    this.define(name, body.list);
    return { kind: 'template', offset: token.offset, name, pipe };
  }

  // --- pipelines ----------------------------------------------------------

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const offset = this.peekNonSpace().offset;
    const decl: VariableNode[] = [];
    let isAssign = false;
    let again = this.peekNonSpace().type === 'variable';
    while (again) {
      again = false;
      const variable = this.next();
      const tokenAfterVariable = this.peek();
      const following = this.peekNonSpace();
      if (following.type === 'assign' || following.type === 'declare') {
        isAssign = following.type === 'assign';
        this.nextNonSpace();
        decl.push(this.variableNode(variable.offset, variable.value));
        this.vars.push(variable.value);
      } else if (following.type === 'char' && following.value === ',') {
        this.nextNonSpace();
        decl.push(this.variableNode(variable.offset, variable.value));
        this.vars.push(variable.value);
        if (context === 'range' && decl.length < 2) {
          const second = this.peekNonSpace().type;
          if (second !== 'variable' && second !== 'rightDelim' && second !== 'rightParen') this.fail('range can only initialize variables');
          again = second === 'variable';
          continue;
        }
        this.fail(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.type === 'space') {
        this.backup3(variable, tokenAfterVariable);
      } else {
        this.backup2(variable);
      }
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        const pipe: PipeNode = { kind: 'pipe', offset, decl, isAssign, cmds };
        this.checkPipeline(pipe, context);
        return pipe;
      }
      if (!OPERAND_STARTS.has(token.type)) this.unexpected(token, context);
      this.backup();
      cmds.push(this.command());
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((cmd, i) => {
      const kind = cmd.args[0].kind;
      if (kind === 'bool' || kind === 'dot' || kind === 'nil' || kind === 'number' || kind === 'string') {
        this.fail(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const offset = this.peekNonSpace().offset;
    const args: ArgNode[] = [];
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (args.length === 0) this.fail('empty command');
    return { kind: 'command', offset, args };
  }

  /** A term, possibly followed by `.Field` accesses. */
  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const offset = this.peek().offset;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1));
    switch (node.kind) {
      case 'field':
        // Go re-anchors the whole chain at the first extra field.
        return { kind: 'field', offset, idents: [...node.idents, ...fields] };
      case 'variable':
        return { kind: 'variable', offset, idents: [...node.idents, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(`unexpected . after term ${quote(describeNode(node))}`);
      default:
        return { kind: 'chain', offset, node, fields };
    }
  }

  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    const offset = token.offset;
    switch (token.type) {
      case 'identifier':
        if (!this.options.isFunction(token.value)) this.fail(`function ${quote(token.value)} not defined`);
        return { kind: 'identifier', offset, name: token.value };
      case 'dot':
        return { kind: 'dot', offset };
      case 'nil':
        return { kind: 'nil', offset };
      case 'variable':
        if (!this.vars.includes(token.value)) this.fail(`undefined variable ${quote(token.value)}`);
        return this.variableNode(offset, token.value);
      case 'field':
        return { kind: 'field', offset, idents: [token.value.slice(1)] };
      case 'bool':
        return { kind: 'bool', offset, value: token.value === 'true' };
      case 'charConstant': {
        const rune = unquoteChar(token.value);
        if (typeof rune !== 'number') this.fail(rune.error);
        return { kind: 'number', offset, text: token.value, int: rune, constant: rune };
      }
      case 'complex':
      case 'number': {
        const parsed = parseNumber(token.value);
        if ('error' in parsed) this.fail(parsed.error);
        return { kind: 'number', offset, text: token.value, ...parsed };
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        return { kind: 'string', offset, quoted: token.value, value: this.unquote(token.value) };
    }
    this.backup();
    return undefined;
  }

  private variableNode(offset: number, name: string): VariableNode {
    return { kind: 'variable', offset, idents: name.split('.') };
  }

  private unquote(literal: string): string {
    const value = unquoteString(literal);
    if (typeof value !== 'string') this.fail(value.error);
    return value;
  }
}

export function parseTemplate(text: string, options: ParserOptions): TemplateTree {
  return new Parser(text, options).parseTree();
}
