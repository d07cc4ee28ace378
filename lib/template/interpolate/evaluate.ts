import {
  ArgNode, BranchNode, ChainNode, CommandNode, describeNode, FieldNode, IdentifierNode, Node, NumberNode, PipeNode, TemplateNode, VariableNode,
} from './ast';
import { InterpolateContext } from './context';
import { TEMPLATE_NAME, TemplateExecError } from './errors';
import { formatValue, quote } from './go-fmt';
import { TemplateTree } from './parser';
import { ParamType, TemplateFunction } from './signature';
import { isTrue, kindOf, mapGet, mapKeys, typeName } from './values';

/*
 * Runs a parsed template the way Go's text/template/exec does. Go reports an
 * error at the last node it "visited" (its s.at calls), which is not always
 * the obvious one (`at <"a">` for `(upper "a").Foo`); `visit` marks the same
 * places so Kiln's messages match Packer's.
 */

export type FunctionLookup = (name: string) => TemplateFunction | undefined;

/** Marks "no value piped in", which differs from a piped-in missing value. */
const NO_FINAL: unique symbol = Symbol('no final argument');
type Final = unknown;

const BREAK: unique symbol = Symbol('break');
const CONTINUE: unique symbol = Symbol('continue');

/** Go's maxExecDepth is 100000; JavaScript stacks are smaller. */
const MAX_TEMPLATE_DEPTH = 1000;

interface Variable {
  readonly name: string;
  value: unknown;
}

type Visitable = Node | ArgNode | CommandNode;

class Execution {
  private out = '';
  private vars: Variable[] = [];
  private node: Visitable | undefined;
  private templateName = TEMPLATE_NAME;
  private depth = 0;
  /** the function whose call is being prepared or made, for error reports */
  private currentFunction: string | undefined;

  constructor(
    private readonly tree: TemplateTree,
    private readonly ctx: InterpolateContext,
    private readonly lookup: FunctionLookup,
  ) {}

  run(): string {
    const dot = this.ctx.data ?? undefined;
    this.vars = [{ name: '$', value: dot }];
    this.walk(dot, this.tree.root);
    return this.out;
  }

  // --- errors and bookkeeping --------------------------------------------

  private visit(node: Visitable): void {
    this.node = node;
  }

  private fail(reason: string): never {
    const node = this.node ?? this.tree.root;
    throw new TemplateExecError({
      reason,
      text: this.tree.text,
      offset: node.offset,
      context: describeNode(node),
      templateName: this.templateName,
      functionName: this.currentFunction,
    });
  }

  private variable(name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) return this.vars[i];
    }
    return this.fail(`undefined variable: ${name}`);
  }

  // --- statements ---------------------------------------------------------

  private walk(dot: unknown, node: Node): void {
    this.visit(node);
    switch (node.kind) {
      case 'action': {
        // Declarations persist until the enclosing {{end}}, and are not printed.
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.print(value);
        return;
      }
      case 'break': throw BREAK;
      case 'continue': throw CONTINUE;
      case 'if':
      case 'with': return this.walkIfOrWith(dot, node);
      case 'list':
        for (const child of node.nodes) this.walk(dot, child);
        return;
      case 'range': return this.walkRange(dot, node);
      case 'template': return this.walkTemplate(dot, node);
      case 'text':
        this.out += node.text;
        return;
    }
  }

  private print(value: unknown): void {
    if (typeof value === 'function') this.fail(`can't print ${describeNode(this.node ?? this.tree.root)} of type ${typeName(value)}`);
    this.out += value === undefined || value === null ? '<no value>' : formatValue(value);
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const value = this.evalPipeline(dot, node.pipe);
      if (isTrue(value)) this.walk(node.kind === 'with' ? value : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, node: BranchNode): void {
    this.visit(node);
    const mark = this.vars.length;
    try {
      const value = this.evalPipeline(dot, node.pipe);
      const bodyMark = this.vars.length;
      const iterate = (key: unknown, element: unknown): void => {
        // The element goes in the last declared variable, the key in the one before.
        if (node.pipe.decl.length > 0) this.vars[bodyMark - 1].value = element;
        if (node.pipe.decl.length > 1) this.vars[bodyMark - 2].value = key;
        try {
          this.walk(element, node.list);
        } catch (signal) {
          if (signal !== CONTINUE) throw signal;
        } finally {
          this.vars.length = bodyMark;
        }
      };
      const kind = kindOf(value);
      if (kind === 'slice') {
        const elements = value as unknown[];
        elements.forEach((element, i) => iterate(i, element));
        if (elements.length > 0) return;
      } else if (kind === 'map') {
        const keys = mapKeys(value as object);
        keys.forEach((key) => iterate(key, mapGet(value as object, key)));
        if (keys.length > 0) return;
      } else if (kind !== 'invalid') {
        // Missing values range over nothing; other values cannot be ranged over.
        this.fail(`range can't iterate over ${formatValue(value)}`);
      }
      if (node.elseList) this.walk(dot, node.elseList);
    } catch (signal) {
      if (signal !== BREAK) throw signal;
    } finally {
      this.vars.length = mark;
    }
  }

  private walkTemplate(dot: unknown, node: TemplateNode): void {
    this.visit(node);
    const body = this.tree.templates.get(node.name);
    if (!body) this.fail(`template ${quote(node.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const value = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
    const saved = { vars: this.vars, templateName: this.templateName };
    this.vars = [{ name: '$', value }];
    this.templateName = node.name;
    this.depth++;
    try {
      this.walk(value, body);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.templateName = saved.templateName;
    }
  }

  // --- expressions --------------------------------------------------------

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.visit(pipe);
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // Go unwraps interface values here, which turns a nil into "no value".
      if (value === null) value = undefined;
    }
    for (const decl of pipe.decl) {
      if (pipe.isAssign) this.variable(decl.idents[0]).value = value;
      else this.vars.push({ name: decl.idents[0], value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.kind) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(first, cmd.args, final);
    }
    this.visit(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.fail('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.value;
    }
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) this.fail(`can't give argument to non-function ${describeNode(args[0])}`);
  }

  private idealConstant(node: NumberNode): unknown {
    this.visit(node);
    if (node.overflowsInt) this.fail(`${node.text} overflows int`);
    return node.constant;
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[], final: Final): unknown {
    this.visit(field);
    return this.evalFieldChain(dot, field.idents, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[], final: Final): unknown {
    this.visit(chain);
    if (chain.node.kind === 'nil') this.fail(`indirection through explicit nil in ${describeNode(chain)}`);
    const receiver = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(receiver, chain.fields, args, final);
  }

  private evalVariableNode(node: VariableNode, args: readonly ArgNode[], final: Final): unknown {
    this.visit(node);
    const value = this.variable(node.idents[0]).value;
    if (node.idents.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(value, node.idents.slice(1), args, final);
  }

  /** `.A.B.C` on a receiver; only the last step may receive arguments (and then fails, as maps have no methods). */
  private evalFieldChain(receiver: unknown, idents: readonly string[], args: readonly ArgNode[], final: Final): unknown {
    let current = receiver;
    // A value read out of a map is an interface{} to Go, whatever it holds.
    let staticType = typeName(receiver);
    idents.forEach((name, i) => {
      const last = i === idents.length - 1;
      current = this.evalField(name, current, staticType, last ? args : [], last ? final : NO_FINAL);
      staticType = 'interface {}';
    });
    return current;
  }

  private evalField(name: string, receiver: unknown, staticType: string, args: readonly ArgNode[], final: Final): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    if (kindOf(receiver) === 'map') {
      if (args.length > 1 || final !== NO_FINAL) this.fail(`${name} is not a method but has arguments`);
      return mapGet(receiver as object, name);
    }
    return this.fail(`can't evaluate field ${name} in type ${staticType}`);
  }

  private evalFunction(dot: unknown, ident: IdentifierNode, node: Visitable, args: readonly ArgNode[], final: Final): unknown {
    this.visit(ident);
    const fn = this.lookup(ident.name);
    if (!fn) this.fail(`${quote(ident.name)} is not a defined function`);
    const saved = this.currentFunction;
    this.currentFunction = ident.name;
    try {
      return this.evalCall(dot, fn, node, ident.name, args.slice(1), final);
    } finally {
      this.currentFunction = saved;
    }
  }

  private evalCall(dot: unknown, fn: TemplateFunction, node: Visitable, name: string, args: readonly ArgNode[], final: Final): unknown {
    const numIn = args.length + (final === NO_FINAL ? 0 : 1);
    const fixed = fn.params.length;
    if (fn.variadic) {
      if (numIn < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${args.length}`);
    } else if (numIn !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
    const paramAt = (i: number): ParamType => (i < fixed ? fn.params[i] : fn.variadic ?? fn.params[fixed - 1]);

    if (fn.shortCircuit) {
      let value: unknown;
      for (const arg of args) {
        value = this.evalArg(dot, 'value', arg);
        if (isTrue(value) === (fn.shortCircuit === 'or')) return value;
      }
      return final === NO_FINAL ? value : this.validateType(final, 'value');
    }

    const argv = args.map((arg, i) => this.evalArg(dot, paramAt(i), arg));
    if (final !== NO_FINAL) argv.push(this.validateType(final, fn.variadic ? paramAt(numIn - 1) : fn.params[fixed - 1]));
    try {
      return fn.call(argv, this.ctx);
    } catch (e) {
      this.visit(node);
      return this.fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** An argument; `type` undefined means "as it is" (the receiver of a chain). */
  private evalArg(dot: unknown, type: ParamType | undefined, node: ArgNode): unknown {
    this.visit(node);
    switch (node.kind) {
      case 'dot': return this.validateType(dot, type);
      case 'nil':
        if (type === 'string' || type === 'int') this.fail(`cannot assign nil to ${type}`);
        return type === 'any' ? null : undefined;
      case 'field': return this.validateType(this.evalFieldNode(dot, node, [node], NO_FINAL), type);
      case 'variable': return this.validateType(this.evalVariableNode(node, [], NO_FINAL), type);
      case 'pipe': return this.validateType(this.evalPipeline(dot, node), type);
      case 'identifier': return this.validateType(this.evalFunction(dot, node, node, [node], NO_FINAL), type);
      case 'chain': return this.validateType(this.evalChainNode(dot, node, [], NO_FINAL), type);
    }
    if (type === 'string') {
      if (node.kind === 'string') return node.value;
      return this.fail(`expected string; found ${describeNode(node)}`);
    }
    if (type === 'int') {
      if (node.kind === 'number' && node.int !== undefined) return node.int;
      return this.fail(`expected integer; found ${describeNode(node)}`);
    }
    switch (node.kind) {
      case 'bool': return node.value;
      case 'number': return this.idealConstant(node);
      case 'string': return node.value;
    }
  }

  private validateType(value: unknown, type: ParamType | undefined): unknown {
    switch (type) {
      case undefined:
      case 'value': return value;
      case 'any': return value === undefined ? null : value;
      case 'string':
      case 'int': {
        if (value === undefined) this.fail(`invalid value; expected ${type}`);
        const ok = type === 'string' ? typeof value === 'string' : kindOf(value) === 'int';
        if (!ok) this.fail(`wrong type for value; expected ${type}; got ${value === null ? 'interface {}' : typeName(value)}`);
        return type === 'int' ? Number(value) : value;
      }
    }
  }
}

/** Executes a parsed template with the functions `lookup` provides. */
export function execute(tree: TemplateTree, ctx: InterpolateContext, lookup: FunctionLookup): string {
  return new Execution(tree, ctx, lookup).run();
}
