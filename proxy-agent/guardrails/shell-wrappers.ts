// Commands that run other commands: `sudo rm`, `xargs rm`, `find -exec rm`, `sh -c '...'`. For
// each, what it runs: another command (its own words), shell code in a string, the commands a
// shell reads on its standard input, or something that cannot be known from the line. Options are
// read as each tool reads them, because an option that takes a value hides the word after it
// (`sudo -u root rm`: `root` is not the command).

/** A word of a command after quote removal, with where it stands in the text it was read from. */
export interface ArgWord {
  value: string | null;
  text: string;
  start: number;
  end: number;
  /** Why value is null, e.g. "a variable ($x)". */
  dynamic?: string;
  /** When value is null: the word unquoted with its expansions as written (`rm -rf $d`). */
  template?: string;
  /** Unquoted glob characters: the shell may turn the word into file names. */
  glob?: boolean;
}

export type Effect =
  /** It runs these words as a command. stdinNull: the command's standard input is not the line's. */
  | { kind: 'command'; label: string; words: ArgWord[]; stdinNull?: boolean }
  /** It runs this string as shell code (null: only known at run time; template: its shape). */
  | { kind: 'code'; label: string; code: string | null; template?: string }
  /** A shell that reads its commands from its standard input. foreign: not a POSIX shell language. */
  | { kind: 'stdin'; label: string; explicit: boolean; foreign?: boolean }
  | { kind: 'unknown'; reason: string };

interface OptionSpec {
  /** Short options that take a value, attached (-uroot) or as the next word (-u root). */
  shortValue?: string;
  /** Short options whose value can only be attached (xargs -i{}). */
  shortOptional?: string;
  /** Long options that take a value, after `=` or as the next word. */
  longValue?: readonly string[];
  /** NAME=VALUE words may stand before the command (env, sudo). */
  assignments?: boolean;
  /** -N is an option, not the command (nice -10). */
  numeric?: boolean;
}

interface WrapperSpec extends OptionSpec {
  /** Options with which the command is not run (command -v, sudo -l). */
  noRun?: readonly string[];
  /** Options whose value is shell code. */
  code?: readonly string[];
  /** Options that make what runs unknowable from the line, with the reason. */
  unknown?: Readonly<Record<string, string>>;
  /** Words between the options and the command (timeout DURATION, chroot DIR, flock FILE). */
  operands?: number;
}

const ENV_SPLIT = 'env -S splits a string into a command at run time';

const WRAPPERS: Record<string, WrapperSpec> = {
  // -h is left out: alone it is --help, and reading the command as its value would hide it.
  sudo: {
    shortValue: 'ugCprtUDRT',
    longValue: ['--user', '--group', '--close-from', '--host', '--prompt', '--role', '--type', '--other-user', '--chdir', '--chroot', '--command-timeout'],
    assignments: true,
    noRun: ['-e', '--edit', '-l', '--list', '-V', '--version'],
  },
  doas: { shortValue: 'uC', noRun: ['-C', '-L'] },
  pkexec: { longValue: ['--user'] },
  env: {
    shortValue: 'uCSP',
    longValue: ['--unset', '--chdir', '--split-string'],
    assignments: true,
    unknown: { '-S': ENV_SPLIT, '--split-string': ENV_SPLIT },
  },
  nohup: {},
  timeout: { shortValue: 'sk', longValue: ['--signal', '--kill-after'], operands: 1 },
  exec: { shortValue: 'a' },
  command: { noRun: ['-v', '-V'] },
  builtin: {},
  nice: { shortValue: 'n', longValue: ['--adjustment'], numeric: true },
  ionice: { shortValue: 'cnpPu', longValue: ['--class', '--classdata', '--pid', '--pgid', '--uid'], noRun: ['-p', '--pid', '-P', '--pgid', '-u', '--uid'] },
  stdbuf: { shortValue: 'ioe', longValue: ['--input', '--output', '--error'] },
  setsid: {},
  time: { shortValue: 'fo', longValue: ['--format', '--output'] },
  chroot: { longValue: ['--userspec', '--groups'], operands: 1 },
  unbuffer: {},
  flock: { shortValue: 'wEc', longValue: ['--wait', '--timeout', '--conflict-exit-code', '--command'], code: ['-c', '--command'], operands: 1 },
  strace: { shortValue: 'abeEIoOpPsSuUX' },
  ltrace: { shortValue: 'aAeEFlnopsuwxD' },
  busybox: {},
  toybox: {},
};

const XARGS: OptionSpec = {
  shortValue: 'IadELnPs',
  shortOptional: 'eil',
  longValue: ['--arg-file', '--delimiter', '--max-args', '--max-procs', '--max-chars', '--process-slot-var'],
};

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'lksh', 'pdksh', 'ash', 'rbash', 'yash', 'posh']);
/** Shells whose language is not the one this module reads. */
const FOREIGN_SHELLS = new Set(['fish', 'csh', 'tcsh']);

const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** What running `words` (words[0] static) runs besides itself; empty for an ordinary command. */
export function effectsOf(words: readonly ArgWord[]): Effect[] {
  const name = basename(words[0].value ?? '');
  if (SHELLS.has(name) || FOREIGN_SHELLS.has(name)) return shellEffects(name, words);
  switch (name) {
    case 'eval':
      return evalEffects(words);
    case 'source':
    case '.':
      return sourceEffects(name, words);
    case 'su':
    case 'runuser':
      return suEffects(name, words);
    case 'watch':
      return watchEffects(words);
    case 'find':
      return findEffects(words);
    case 'xargs':
      return xargsEffects(words);
  }
  const spec = Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
  return spec ? wrapperEffects(name, spec, words) : [];
}

export function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 || slash === path.length - 1 ? path : path.slice(slash + 1);
}

/**
 * A file descriptor named as a file: 'stdin' for standard input (the pipe or the terminal),
 * 'fd' for another one; null for a real file.
 */
export function descriptorPath(path: string): 'stdin' | 'fd' | null {
  if (path === '/dev/stdin' || path === '/dev/fd/0' || path === '/proc/self/fd/0') return 'stdin';
  return /^\/dev\/fd\/\d+$/.test(path) || /^\/proc\/(self|\d+)\/fd\/\d+$/.test(path) ? 'fd' : null;
}

interface ScannedOption {
  name: string;
  /** undefined: the option takes no value; null: its value is not static. */
  value?: string | null;
  template?: string;
}

/** Options from `from` on, stopping at `--` or the first operand; `next` is where operands start. */
function scanOptions(words: readonly ArgWord[], from: number, spec: OptionSpec): { options: ScannedOption[]; next: number } {
  const options: ScannedOption[] = [];
  let i = from;
  while (i < words.length) {
    const v = words[i].value;
    // A word known only at run time may be an option or the command: taking it as the command
    // keeps the command in view (its name is then not static, so every rule may match it).
    if (v === null) break;
    if (v === '--') {
      i++;
      break;
    }
    if (spec.assignments && ASSIGNMENT.test(v)) {
      i++;
      continue;
    }
    if (v.startsWith('--') && v.length > 2) {
      const eq = v.indexOf('=');
      const name = eq < 0 ? v : v.slice(0, eq);
      if (eq >= 0) options.push({ name, value: v.slice(eq + 1) });
      else if (spec.longValue?.includes(name)) {
        options.push({ name, value: words[i + 1]?.value ?? null, template: words[i + 1]?.template });
        i++;
      } else options.push({ name });
      i++;
      continue;
    }
    if (v.length < 2 || v[0] !== '-') break;
    if (spec.numeric && /^-\d+$/.test(v)) {
      i++;
      continue;
    }
    let consumed = 1;
    for (let j = 1; j < v.length; j++) {
      const c = v[j];
      const rest = v.slice(j + 1);
      if (spec.shortValue?.includes(c)) {
        if (rest) options.push({ name: `-${c}`, value: rest });
        else {
          options.push({ name: `-${c}`, value: words[i + 1]?.value ?? null, template: words[i + 1]?.template });
          consumed = 2;
        }
        break;
      }
      if (spec.shortOptional?.includes(c)) {
        options.push({ name: `-${c}`, value: rest || undefined });
        break;
      }
      options.push({ name: `-${c}` });
    }
    i += consumed;
  }
  return { options, next: i };
}

function wrapperEffects(name: string, spec: WrapperSpec, words: readonly ArgWord[]): Effect[] {
  const { options, next } = scanOptions(words, 1, spec);
  const effects: Effect[] = [];
  for (const o of options) {
    if (spec.unknown && Object.hasOwn(spec.unknown, o.name)) effects.push({ kind: 'unknown', reason: spec.unknown[o.name] });
    if (spec.code?.includes(o.name)) effects.push({ kind: 'code', label: `${name} ${o.name}`, code: o.value ?? null, template: o.template });
  }
  if (options.some((o) => spec.noRun?.includes(o.name))) return effects;
  const start = next + (spec.operands ?? 0);
  const afterOperands = words[start]?.value;
  // flock FILE -c STRING: the string comes after the file.
  if (spec.code && afterOperands != null && spec.code.includes(afterOperands)) {
    effects.push(codeWord(`${name} ${afterOperands}`, words[start + 1]));
  } else if (start < words.length) {
    effects.push({ kind: 'command', label: name, words: words.slice(start) });
  }
  return effects;
}

/** sh [options] [-c STRING | -s | SCRIPT] [ARGS]. */
function shellEffects(name: string, words: readonly ArgWord[]): Effect[] {
  const foreign = FOREIGN_SHELLS.has(name);
  let code = false;
  let stdin = false;
  let i = 1;
  while (i < words.length) {
    const v = words[i].value;
    // After -c, the string; otherwise a script or options: the first word not known is where options end.
    if (v === null) break;
    if (v === '-' || v === '--') {
      // `sh -` reads its standard input, as -s does.
      if (v === '-') stdin = true;
      i++;
      break;
    }
    if (v.startsWith('--')) {
      i += v === '--rcfile' || v === '--init-file' ? 2 : 1;
      continue;
    }
    if (v.length < 2 || (v[0] !== '-' && v[0] !== '+')) break;
    const letters = v.slice(1);
    if (letters.includes('c')) code = true;
    if (letters.includes('s')) stdin = true;
    // -o OPTION, +O SHOPT: the option's name is the next word.
    i += /[oO]/.test(letters) ? 2 : 1;
  }
  if (code) {
    if (foreign) return [{ kind: 'unknown', reason: `${name} -c runs code in another shell language` }];
    return [codeWord(`${name} -c`, words[i])];
  }
  if (stdin || i >= words.length) return [{ kind: 'stdin', label: name, explicit: stdin, foreign }];
  const script = words[i];
  if (script.value === null) return [{ kind: 'unknown', reason: `${name} is given a script or options known only at run time: ${script.dynamic ?? script.text}` }];
  const fd = descriptorPath(script.value);
  if (fd === 'stdin') return [{ kind: 'stdin', label: name, explicit: true, foreign }];
  if (fd === 'fd') return [{ kind: 'unknown', reason: `a shell reads commands from another file descriptor (${name} ${script.text})` }];
  // A script file: what it runs is in the file, not on the line.
  return [];
}

/** The string a word holds, as shell code to read. */
function codeWord(label: string, word: ArgWord | undefined): Effect {
  return { kind: 'code', label, code: word?.value ?? null, template: word?.template };
}

/** Words a tool joins with spaces into one string of shell code (eval, watch). */
function joined(label: string, words: readonly ArgWord[]): Extract<Effect, { kind: 'code' }> {
  const code = words.some((w) => w.value === null) ? null : words.map((w) => w.value).join(' ');
  return code === null ? { kind: 'code', label, code, template: words.map((w) => w.value ?? w.template ?? w.text).join(' ') } : { kind: 'code', label, code };
}

function evalEffects(words: readonly ArgWord[]): Effect[] {
  if (words.length < 2) return [];
  const code = joined('eval', words.slice(1));
  // Unknown even when static (the agent does not follow what eval builds), but read all the same
  // so that the commands in the string can be named.
  return [{ kind: 'unknown', reason: 'eval runs its arguments as shell code' }, code];
}

function sourceEffects(name: string, words: readonly ArgWord[]): Effect[] {
  const file = words[1];
  if (!file) return [];
  if (file.value === null) return [{ kind: 'unknown', reason: `${name} of ${file.dynamic ?? file.text}` }];
  if (descriptorPath(file.value)) return [{ kind: 'unknown', reason: `${name} reads commands from a file descriptor (${file.text})` }];
  // A script file is out of the line's reach, as for `sh script`.
  return [];
}

/** su [options] [-] [USER [ARGS]]: only -c/--command STRING runs something; options may follow USER. */
function suEffects(name: string, words: readonly ArgWord[]): Effect[] {
  if (name === 'runuser') {
    const { options, next } = scanOptions(words, 1, { shortValue: 'ugGcsw', longValue: ['--user', '--group', '--supp-group', '--command', '--shell', '--whitelist-environment', '--session-command'] });
    if (options.some((o) => o.name === '-u' || o.name === '--user')) {
      return next < words.length ? [{ kind: 'command', label: name, words: words.slice(next) }] : [];
    }
  }
  const effects: Effect[] = [];
  for (let i = 1; i < words.length; i++) {
    const v = words[i].value;
    if (v === null || !v.startsWith('-') || v === '-') continue;
    if (v.startsWith('--')) {
      const eq = v.indexOf('=');
      const opt = eq < 0 ? v : v.slice(0, eq);
      if (opt === '--command' || opt === '--session-command') {
        effects.push(eq < 0 ? codeWord(`${name} -c`, words[i + 1]) : { kind: 'code', label: `${name} -c`, code: v.slice(eq + 1) });
        if (eq < 0) i++;
      } else if (eq < 0 && ['--shell', '--group', '--supp-group', '--whitelist-environment'].includes(opt)) i++;
      continue;
    }
    for (let j = 1; j < v.length; j++) {
      const c = v[j];
      if (!'csgGw'.includes(c)) continue;
      const rest = v.slice(j + 1);
      if (c === 'c') effects.push(rest ? { kind: 'code', label: `${name} -c`, code: rest } : codeWord(`${name} -c`, words[i + 1]));
      if (!rest) i++;
      break;
    }
  }
  return effects;
}

/** watch [options] COMMAND...: the words joined are run by `sh -c`, unless -x runs them directly. */
function watchEffects(words: readonly ArgWord[]): Effect[] {
  const { options, next } = scanOptions(words, 1, { shortValue: 'nq', longValue: ['--interval', '--equexit'] });
  const rest = words.slice(next);
  if (rest.length === 0) return [];
  if (options.some((o) => o.name === '-x' || o.name === '--exec')) return [{ kind: 'command', label: 'watch', words: rest }];
  return [joined('watch', rest)];
}

/** A word containing what the tool replaces at run time (`{}`) is not static. */
function filledIn(words: readonly ArgWord[], token: string, by: string): ArgWord[] {
  return words.map((w) => (w.value?.includes(token) ? { ...w, value: null, dynamic: `${by} fills in (${w.text})`, template: w.value } : w));
}

/** find ... -exec CMD ARGS ; (or + after {}), as often as given. */
function findEffects(words: readonly ArgWord[]): Effect[] {
  const effects: Effect[] = [];
  for (let i = 1; i < words.length; i++) {
    const opt = words[i].value;
    if (opt === null || !FIND_EXEC.has(opt)) continue;
    let end = i + 1;
    while (end < words.length && words[end].value !== ';' && !(words[end].value === '+' && words[end - 1].value === '{}')) end++;
    const command = words.slice(i + 1, end);
    if (command.length) effects.push({ kind: 'command', label: `find ${opt}`, words: filledIn(command, '{}', 'a file name find') });
    i = end;
  }
  return effects;
}

/** xargs [options] [COMMAND [ARGS]]: the input's words are appended (or put in place of -I's string). */
function xargsEffects(words: readonly ArgWord[]): Effect[] {
  const { options, next } = scanOptions(words, 1, XARGS);
  let command = words.slice(next);
  if (command.length === 0) return [];
  for (const o of options) {
    const replace = o.name === '-I' ? o.value : o.name === '-i' || o.name === '--replace' ? (o.value ?? '{}') : undefined;
    if (replace === undefined) continue;
    if (replace === null || replace === '') {
      command = command.map((w) => ({ ...w, value: null, dynamic: `xargs may fill in any word (${w.text})` }));
    } else command = filledIn(command, replace, 'an input line xargs');
  }
  // The command's input is /dev/null, unless -o gives it the terminal or -a leaves xargs's own input free.
  const keepsStdin = options.some((o) => ['-o', '--open-tty', '-a', '--arg-file'].includes(o.name));
  return [{ kind: 'command', label: 'xargs', words: command, stdinNull: !keepsStdin }];
}
