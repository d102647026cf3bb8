// The walk over a parsed line behind shell-reading.ts: every statement anywhere in the tree, each
// command's words, and what the command runs in turn (shell-wrappers.ts), with how it was reached
// and where its standard input comes from (a shell reading a pipe cannot be read; one reading a
// here-document of the line can).
import { OP, ShSource, goString, items, nodeType, parseShell, present, walk } from './shell-syntax.ts';
import type { ShFile, ShLit, ShNode, ShSlice, ShStmt, ShWord } from './shell-syntax.ts';
import { heredocValue, wordValue } from './shell-words.ts';
import { descriptorPath, effectsOf, type ArgWord, type Effect } from './shell-wrappers.ts';
import type { ShellCommand, ShellReading } from './shell-reading.ts';

export const MAX_LINE_BYTES = 64 * 1024;
/** Shells in strings in shells (`sh -c "bash -c '...'"`) are read this deep. */
const MAX_SHELL_DEPTH = 8;
/** Statements inside statements (subshells, substitutions, bodies): past this the line is refused. */
const MAX_NESTING = 100;
const MAX_COMMANDS = 2000;

type Stdin =
  | { kind: 'inherited' }
  | { kind: 'pipe' }
  /** A here-document (<<) or here-string (<<<); value null when expanded at run time. */
  | { kind: 'text'; op: string; value: string | null; template: string }
  | { kind: 'file' }
  | { kind: 'dynamic'; what: string }
  | { kind: 'fd' };

interface Ctx {
  src: ShSource;
  via: string[];
  shellDepth: number;
  nesting: number;
  stdin: Stdin;
}

const LABELS: Record<string, string> = {
  IfClause: 'if', CaseClause: 'case', Subshell: 'subshell', FuncDecl: 'function body',
  TimeClause: 'time', CoprocClause: 'coproc', ArithmCmd: 'arithmetic', TestClause: '[[ ]]', LetClause: 'let',
};

/** Labels that repeat along a chain (`a | b | c`, `a && b || c`) are said once. */
const CHAIN_LABELS = new Set(['pipeline', 'list']);

export class LineWalker {
  private readonly commands: ShellCommand[] = [];
  private readonly reasons = new Set<string>();
  private stopped = false;

  result(): ShellReading {
    return { commands: this.commands, unknown: [...this.reasons] };
  }

  readFile(file: ShFile, text: string): void {
    this.readStmts(items(file.Stmts), { src: new ShSource(text), via: [], shellDepth: 0, nesting: 0, stdin: { kind: 'inherited' } });
  }

  private unknown(reason: string): void {
    this.reasons.add(reason);
  }

  private readStmts(stmts: readonly ShStmt[], ctx: Ctx): void {
    for (const stmt of stmts) this.readStmt(stmt, ctx);
  }

  private readStmt(stmt: ShStmt, outer: Ctx): void {
    if (this.stopped) return;
    if (outer.nesting > MAX_NESTING) {
      this.unknown('the line nests too deeply to read');
      return;
    }
    let ctx: Ctx = { ...outer, nesting: outer.nesting + 1 };
    for (const r of items(stmt.Redirs)) {
      const word = present(r.Word);
      const hdoc = present(r.Hdoc);
      // Substitutions in a redirect's target or an unquoted here-document run too.
      if (word) this.scan(word, ctx);
      if (hdoc) this.scan(hdoc, ctx);
      const fd = present(r.N);
      if (fd && goString(fd.Value) !== '0') continue;
      const stdin = this.redirectedStdin(r.Op, word, hdoc, ctx);
      if (stdin) ctx = { ...ctx, stdin };
    }
    if (stmt.Background) ctx = withLabel(ctx, 'background');
    const cmd = present(stmt.Cmd);
    if (cmd) this.readCommand(cmd, ctx);
  }

  private redirectedStdin(op: number, word: ShWord | null, hdoc: ShWord | null, ctx: Ctx): Stdin | null {
    switch (op) {
      case OP.heredoc:
      case OP.heredocTabs:
        return { kind: 'text', op: '<<', ...(hdoc ? heredocValue(hdoc, word ? delimiterQuoted(word, ctx.src) : false, ctx.src) : { value: '', template: '' }) };
      case OP.hereString: {
        const v = word ? wordValue(word, ctx.src) : { value: null, template: '' };
        return { kind: 'text', op: '<<<', value: v.value, template: v.template ?? '' };
      }
      case OP.redirIn:
      case OP.redirInOut: {
        const target = word ? wordValue(word, ctx.src) : { value: null };
        if (target.value === null) return { kind: 'dynamic', what: target.dynamic ?? 'a file known only at run time' };
        const fd = descriptorPath(target.value);
        return fd === 'stdin' ? null : fd === 'fd' ? { kind: 'fd' } : { kind: 'file' };
      }
      case OP.dupIn:
        return { kind: 'fd' };
      default:
        return null;
    }
  }

  private readCommand(cmd: ShNode, ctx: Ctx): void {
    const type = nodeType(cmd);
    switch (type) {
      case 'CallExpr':
        return this.readCall(cmd as CallExpr, ctx);
      case 'BinaryCmd':
        return this.readChain(cmd as BinaryCmd, ctx);
      case 'DeclClause':
        return this.readDecl(cmd as unknown as DeclClause, ctx);
      case 'WhileClause':
        return this.scan(cmd, withLabel(ctx, (cmd as unknown as { Until: boolean }).Until ? 'until' : 'while'));
      case 'ForClause':
        return this.scan(cmd, withLabel(ctx, (cmd as unknown as { Select: boolean }).Select ? 'select' : 'for'));
      case 'CoprocClause':
        // A coprocess reads what the shell writes to it: a pipe.
        return this.scan(cmd, { ...withLabel(ctx, 'coproc'), stdin: { kind: 'pipe' } });
      case 'Block':
        // `f() { ...; }`: the braces are the function's body, not a group of their own.
        return this.scan(cmd, ctx.via[ctx.via.length - 1] === 'function body' ? ctx : withLabel(ctx, 'group'));
      default:
        return this.scan(cmd, withLabel(ctx, LABELS[type] ?? 'compound command'));
    }
  }

  /** Every statement and substitution anywhere under `node` (bodies, conditions, words, arithmetic). */
  private scan(node: ShNode, ctx: Ctx): void {
    walk(node, (n) => {
      if (this.stopped) return false;
      switch (nodeType(n)) {
        case 'Stmt':
          this.readStmt(n as ShStmt, ctx);
          return false;
        case 'CmdSubst':
          this.readStmts(items((n as unknown as { Stmts: ShSlice<ShStmt> }).Stmts), withLabel(ctx, 'command substitution'));
          return false;
        case 'ProcSubst': {
          const p = n as unknown as { Stmts: ShSlice<ShStmt>; Op: number };
          const inner = withLabel(ctx, 'process substitution');
          // >(cmd) reads what the outer command writes: its input is a pipe.
          this.readStmts(items(p.Stmts), p.Op === OP.procOut ? { ...inner, stdin: { kind: 'pipe' } } : inner);
          return false;
        }
        default:
          return true;
      }
    });
  }

  /** `a | b | c` and `a && b || c` nest to the left; walked as a flat list so long chains do not recurse. */
  private readChain(cmd: BinaryCmd, ctx: Ctx): void {
    const pipe = cmd.Op === OP.pipe || cmd.Op === OP.pipeAll;
    const sameKind = (op: number) => (op === OP.pipe || op === OP.pipeAll) === pipe;
    const stages: ShStmt[] = [];
    let cur = cmd;
    for (;;) {
      stages.push(cur.Y);
      const x = cur.X;
      const xCmd = present(x.Cmd);
      if (xCmd && nodeType(xCmd) === 'BinaryCmd' && sameKind((xCmd as BinaryCmd).Op) && x.Redirs.$length === 0 && !x.Negated && !x.Background) {
        cur = xCmd as BinaryCmd;
        continue;
      }
      stages.push(x);
      break;
    }
    stages.reverse();
    const inner = withLabel(ctx, pipe ? 'pipeline' : 'list');
    stages.forEach((stage, i) => this.readStmt(stage, pipe && i > 0 ? { ...inner, stdin: { kind: 'pipe' } } : inner));
  }

  private readCall(call: CallExpr, ctx: Ctx): void {
    this.scan(call, ctx);
    const args = items(call.Args);
    // Assignments alone (`x=rm`) run nothing but their substitutions, read above.
    if (args.length === 0) return;
    this.readArgv(args.map((w) => argWord(w, ctx.src)), ctx, ctx.src.of(call));
  }

  private readDecl(decl: DeclClause, ctx: Ctx): void {
    this.scan(decl, ctx);
    const variant = present(decl.Variant);
    const argv: Array<string | null> = [variant ? goString(variant.Value) : null];
    for (const a of items(decl.Args)) argv.push(assignmentValue(a, ctx.src));
    this.push({ argv, via: [...ctx.via], text: ctx.src.of(decl) });
  }

  private push(command: ShellCommand): boolean {
    if (this.commands.length >= MAX_COMMANDS) {
      this.unknown('the line runs too many commands to read');
      this.stopped = true;
      return false;
    }
    this.commands.push(command);
    return true;
  }

  /** A command (top level or run by a wrapper), then what it runs in turn. */
  private readArgv(words: ArgWord[], ctx: Ctx, text: string): void {
    if (this.stopped) return;
    const argv = words.map((w) => w.value);
    const name = words[0];
    let why: string | null = null;
    if (name.value === null) why = `the command name comes from ${name.dynamic ?? `a value known only at run time (${name.text})`}`;
    else if (name.glob) {
      // `/bin/r?` runs /bin/rm: which command a pattern names depends on the files there.
      why = `the command name is a glob pattern (${name.text})`;
      argv[0] = null;
    }
    if (!this.push({ argv, via: [...ctx.via], text })) return;
    if (why) {
      this.unknown(why);
      return;
    }
    for (const effect of effectsOf(words)) this.apply(effect, ctx);
  }

  private apply(effect: Effect, ctx: Ctx): void {
    switch (effect.kind) {
      case 'unknown':
        this.unknown(effect.reason);
        return;
      case 'command': {
        const inner = withLabel(ctx, effect.label);
        const words = effect.words;
        this.readArgv(words, effect.stdinNull ? { ...inner, stdin: { kind: 'file' } } : inner, ctx.src.slice(words[0].start, words[words.length - 1].end));
        return;
      }
      case 'code':
        if (effect.code !== null) return this.readCode(effect.code, withLabel(ctx, effect.label));
        this.unknown(`${effect.label} with a string built at run time`);
        if (effect.template) this.readCode(effect.template, withLabel(ctx, effect.label), true);
        return;
      case 'stdin':
        this.readShellStdin(effect, ctx);
    }
  }

  /** A shell reading commands from its standard input: readable only when the line itself feeds it. */
  private readShellStdin(shell: Extract<Effect, { kind: 'stdin' }>, ctx: Ctx): void {
    const stdin = ctx.stdin;
    switch (stdin.kind) {
      case 'pipe':
        return this.unknown(`a shell reads commands from a pipe (| ${shell.label})`);
      case 'text': {
        if (shell.foreign) return this.unknown(`${shell.label} runs code in another shell language`);
        const label = withLabel(ctx, `${shell.label} ${stdin.op}`);
        if (stdin.value !== null) return this.readCode(stdin.value, label);
        this.unknown(`${shell.label} ${stdin.op} with text built at run time`);
        return this.readCode(stdin.template, label, true);
      }
      case 'dynamic':
        return this.unknown(`a shell reads commands from ${stdin.what}`);
      case 'fd':
        return this.unknown(`a shell reads commands from another file descriptor (${shell.label} <&)`);
      case 'inherited':
        // Without -s, a shell on the terminal is an interactive shell: its lines are read as lines.
        if (shell.explicit) this.unknown(`a shell reads commands from its standard input (${shell.label} -s)`);
        return;
      case 'file':
        // A script file: what it runs is not on the line.
        return;
    }
  }

  /**
   * Shell code run by a command of the line. A template (a string with its expansions as written)
   * only adds what can be seen of its shape: the line is already unknown, so a failure adds nothing.
   */
  private readCode(code: string, ctx: Ctx, template = false): void {
    const label = ctx.via[ctx.via.length - 1] ?? 'shell';
    if (ctx.shellDepth >= MAX_SHELL_DEPTH) return this.unknown('shells inside shells nest too deeply to read');
    if (Buffer.byteLength(code, 'utf8') > MAX_LINE_BYTES) return this.unknown(`${label}: the string is too long to read`);
    const parsed = parseShell(code);
    if (!('file' in parsed)) {
      if (!template) this.unknown(`${label}: the shell could not parse its string: ${parsed.error}`);
      return;
    }
    this.readStmts(items(parsed.file.Stmts), { ...ctx, src: new ShSource(code), shellDepth: ctx.shellDepth + 1 });
  }
}

interface BinaryCmd extends ShNode {
  Op: number;
  X: ShStmt;
  Y: ShStmt;
}

interface CallExpr extends ShNode {
  Args: ShSlice<ShWord>;
}

interface Assign extends ShNode {
  Naked: boolean;
  Append: boolean;
  Name: ShLit;
  Value: ShWord;
  Array: ShNode;
  Index: ShNode;
}

interface DeclClause extends ShNode {
  Variant: ShLit;
  Args: ShSlice<Assign>;
}

/** `declare -x A=1 B`: each argument as the builtin sees it (null when not static). */
function assignmentValue(a: Assign, src: ShSource): string | null {
  const name = present(a.Name);
  const value = present(a.Value);
  if (present(a.Array) || present(a.Index)) return null;
  if (a.Naked) return name ? goString(name.Value) : value ? wordValue(value, src).value : null;
  if (!name) return null;
  const v = value ? wordValue(value, src).value : '';
  return v === null ? null : `${goString(name.Value)}${a.Append ? '+=' : '='}${v}`;
}

function withLabel(ctx: Ctx, label: string): Ctx {
  if (CHAIN_LABELS.has(label) && ctx.via[ctx.via.length - 1] === label) return ctx;
  return { ...ctx, via: [...ctx.via, label] };
}

function argWord(word: ShWord, src: ShSource): ArgWord {
  const v = wordValue(word, src);
  const start = word.Pos().Offset();
  const end = word.End().Offset();
  const arg: ArgWord = { value: v.value, text: src.slice(start, end), start, end };
  if (v.dynamic) arg.dynamic = v.dynamic;
  if (v.template !== undefined) arg.template = v.template;
  if (v.glob) arg.glob = true;
  return arg;
}

/** `<<'EOF'`, `<<"EOF"`, `<<\EOF`: the body is taken as written, without expansions. */
function delimiterQuoted(word: ShWord, src: ShSource): boolean {
  return /['"\\]/.test(src.of(word));
}
