// Every command a shell line would run, read with a real bash parser (mvdan/sh) rather than a
// regular expression over the text, so quoting (`r''m`), split options (`rm -r -f`), wrappers
// (`sudo rm`), nested shells (`sh -c "..."`) and command substitutions cannot hide a command.
// What cannot be known before the line runs (a command name in a variable, `eval`, a shell reading
// a pipe) is said in `unknown`, so a guardrail can fail closed on it.
import { loadShellSyntax, nodeType, parseShell, walk, type ShFile } from './shell-syntax.ts';
import { LineWalker, MAX_LINE_BYTES } from './shell-walker.ts';

export interface ShellCommand {
  /** The words after quote removal; null for a word whose value is not static (it has $var, $(...), `...`; globs are kept literal, except in the command name). argv[0] is the command name as written (path kept). */
  argv: Array<string | null>;
  /** How the command was reached, outermost first, e.g. ['pipeline', 'bash -c', 'sudo'], or [] at top level. */
  via: string[];
  /** The command's own text as written in the line (or in the string a nested shell reads). */
  text: string;
}

export interface ShellReading {
  commands: ShellCommand[];
  /** Why the line may run something that cannot be read from it (empty: every command is in `commands`). */
  unknown: string[];
  /** The line is not complete (open quote, `do` without `done`, trailing `|`, open heredoc): a shell would ask for more. commands/unknown are then only what was read so far. */
  incomplete?: boolean;
}

/** Loads the parser once. It is plain JavaScript: after this, readShellLine is synchronous. */
export function loadShellParser(): Promise<void> {
  const failed = loadShellSyntax();
  if (failed) return Promise.reject(new Error(failed));
  // The first parse compiles the parser's code paths; done here rather than on a user's line.
  parseShell('true');
  return Promise.resolve();
}

/** Never throws: what cannot be read is a reason in `unknown`. */
export function readShellLine(line: string): ShellReading {
  const reader = new LineWalker();
  try {
    if (typeof line !== 'string') return { commands: [], unknown: ['the line is not text'] };
    if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES) return { commands: [], unknown: ['the line is too long to read'] };
    // A lone surrogate has no UTF-8 form: the parser's byte offsets and ours must agree.
    line = line.replace(LONE_SURROGATE, '\ufffd');
    const parsed = parseShell(line);
    if ('file' in parsed) {
      reader.readFile(parsed.file, line);
      const reading = reader.result();
      return endsInContinuation(line, parsed.file) ? { ...reading, incomplete: true } : reading;
    }
    if (!parsed.incomplete) return { commands: [], unknown: [`the shell could not parse the line: ${parsed.error}`] };
    readPrefix(reader, line, parsed.offset);
    return { ...reader.result(), incomplete: true };
  } catch (err) {
    const why = err instanceof RangeError ? 'the line nests too deeply to read' : `the line could not be read: ${(err as Error)?.message ?? String(err)}`;
    return { commands: reader.result().commands, unknown: [...reader.result().unknown, why] };
  }
}

/** An incomplete line's commands before the point where the parser ran out of input. */
function readPrefix(reader: LineWalker, line: string, offset: number): void {
  let text = line;
  for (let tries = 0; tries < 4; tries++) {
    const prefix = Buffer.from(text, 'utf8').subarray(0, offset).toString('utf8');
    if (prefix.length >= text.length || !prefix.trim()) return;
    const parsed = parseShell(prefix);
    if ('file' in parsed) {
      reader.readFile(parsed.file, prefix);
      return;
    }
    if (!parsed.incomplete) return;
    text = prefix;
    offset = parsed.offset;
  }
}

/** A final unescaped backslash continues the line (the parser takes it as a literal), unless it is in a comment. */
function endsInContinuation(line: string, file: ShFile): boolean {
  const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
  if (trailing % 2 === 0) return false;
  const size = Buffer.byteLength(line, 'utf8');
  let inComment = false;
  walk(file, (n) => {
    if (nodeType(n) === 'Comment' && n.End().Offset() >= size) inComment = true;
    return !inComment;
  });
  return !inComment;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
