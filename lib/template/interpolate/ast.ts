import type { Float64 } from './values';

/*
 * The parse tree mirrors Go's text/template/parse nodes, because Packer's
 * error messages print nodes the way Go does (`at <split "a" "-" 5>`).
 * Every node keeps the offset of its first character for error positions.
 */

interface At {
  readonly offset: number;
}

export interface ListNode extends At {
  readonly kind: 'list';
  readonly nodes: readonly Node[];
}

export interface TextNode extends At {
  readonly kind: 'text';
  readonly text: string;
}

export interface ActionNode extends At {
  readonly kind: 'action';
  readonly pipe: PipeNode;
}

/** `if`, `range` and `with` share one shape, as in Go. */
export interface BranchNode extends At {
  readonly kind: 'if' | 'range' | 'with';
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList?: ListNode;
}

export interface TemplateNode extends At {
  readonly kind: 'template';
  readonly name: string;
  readonly pipe?: PipeNode;
}

export interface LoopControlNode extends At {
  readonly kind: 'break' | 'continue';
}

export type Node = ListNode | TextNode | ActionNode | BranchNode | TemplateNode | LoopControlNode;

export interface PipeNode extends At {
  readonly kind: 'pipe';
  /** `$x :=` or `$i, $e :=` */
  readonly decl: readonly VariableNode[];
  /** `$x = ...` assigns to an existing variable instead of declaring one */
  readonly isAssign: boolean;
  readonly cmds: readonly CommandNode[];
}

export interface CommandNode extends At {
  readonly kind: 'command';
  readonly args: readonly ArgNode[];
}

export interface IdentifierNode extends At {
  readonly kind: 'identifier';
  readonly name: string;
}

/** `.A.B`: a field chain on dot. */
export interface FieldNode extends At {
  readonly kind: 'field';
  readonly idents: readonly string[];
}

/** `$x` or `$x.A.B`; idents[0] is the variable name including `$`. */
export interface VariableNode extends At {
  readonly kind: 'variable';
  readonly idents: readonly string[];
}

/** `(pipeline).A.B` */
export interface ChainNode extends At {
  readonly kind: 'chain';
  readonly node: ArgNode;
  readonly fields: readonly string[];
}

export interface DotNode extends At {
  readonly kind: 'dot';
}

export interface NilNode extends At {
  readonly kind: 'nil';
}

export interface BoolNode extends At {
  readonly kind: 'bool';
  readonly value: boolean;
}

export interface NumberNode extends At {
  readonly kind: 'number';
  /** the number as written */
  readonly text: string;
  /** set when the number can be passed to an `int` parameter */
  readonly int?: number;
  /** what the number becomes where any type is accepted: an int, or a float64 for `1.0`, `1e3` */
  readonly constant: number | Float64;
  /** a uint64 beyond the int range: Go fails when it is used as a value */
  readonly overflowsInt?: boolean;
}

export interface StringNode extends At {
  readonly kind: 'string';
  /** the literal as written, quotes included */
  readonly quoted: string;
  readonly value: string;
}

export type ArgNode =
  | IdentifierNode | FieldNode | VariableNode | ChainNode | DotNode | NilNode
  | BoolNode | NumberNode | StringNode | PipeNode;

/** Literals that Go evaluates without looking at dot or calling anything. */
export function isLiteral(node: ArgNode): node is BoolNode | NumberNode | StringNode | NilNode | DotNode {
  return node.kind === 'bool' || node.kind === 'number' || node.kind === 'string' || node.kind === 'nil' || node.kind === 'dot';
}

/** Go's Node.String(), used for the `at <...>` part of exec errors. */
export function describeNode(node: Node | ArgNode | CommandNode): string {
  switch (node.kind) {
    case 'list': return node.nodes.map(describeNode).join('');
    case 'text': return node.text;
    case 'action': return `{{${describePipe(node.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with': {
      const elsePart = node.elseList ? `{{else}}${describeNode(node.elseList)}` : '';
      return `{{${node.kind} ${describePipe(node.pipe)}}}${describeNode(node.list)}${elsePart}{{end}}`;
    }
    case 'template': return node.pipe ? `{{template ${JSON.stringify(node.name)} ${describePipe(node.pipe)}}}` : `{{template ${JSON.stringify(node.name)}}}`;
    case 'break':
    case 'continue': return `{{${node.kind}}}`;
    case 'pipe': return describePipe(node);
    case 'command': return node.args.map((arg) => (arg.kind === 'pipe' ? `(${describePipe(arg)})` : describeNode(arg))).join(' ');
    case 'identifier': return node.name;
    case 'field': return node.idents.map((ident) => `.${ident}`).join('');
    case 'variable': return node.idents.join('.');
    case 'chain': {
      const base = node.node.kind === 'pipe' ? `(${describePipe(node.node)})` : describeNode(node.node);
      return base + node.fields.map((field) => `.${field}`).join('');
    }
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(node.value);
    case 'number': return node.text;
    case 'string': return node.quoted;
  }
}

export function describePipe(pipe: PipeNode): string {
  // Go prints ":=" for assignments too.
  const decl = pipe.decl.length > 0 ? `${pipe.decl.map(describeNode).join(', ')} := ` : '';
  return decl + pipe.cmds.map(describeNode).join(' | ');
}
