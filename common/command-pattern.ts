// The `command` of an SSH guardrail: a command name and the arguments that make it the one the
// rule is about, as words ("rm -r -f", "kubectl delete", "mkfs*"), matched against the words a
// shell would pass (shell-reading.ts) instead of a regular expression over the line's text, so
// `rm -fr`, `/bin/rm -f -r` and `sudo rm -rf` are all `rm -r -f`.
//
// Options match as tools read them: a short option is present alone or inside a cluster (`-r` in
// `-Rfr`), a long one alone or with a value (`--force`, `--force=yes`) or abbreviated, as GNU
// getopt accepts (`--forc`); all must be present, in any order, before `--`. Operands must appear
// in the pattern's order among the other arguments, not necessarily next to each other.

export type PatternMatch = 'yes' | 'maybe' | 'no';

/** One alternative of an option word: short letters that must all be present, or a long name. */
type OptionAlt = { short: string } | { long: string };

interface OptionWord {
  text: string;
  alts: OptionAlt[];
}

interface OperandWord {
  text: string;
  alts: RegExp[];
}

const EXAMPLE = 'e.g. "rm -r -f" or "kubectl delete"';
const REGEX_LIKE = /[\\^$()[\]{}+?]|\.\*/;

export class CommandPattern {
  /** The command-name word as written (`rm`, `mkfs*`, `shutdown|reboot`). */
  readonly name: string;
  private readonly names: RegExp[];
  private readonly options: OptionWord[];
  private readonly operands: OperandWord[];

  private constructor(name: string, options: OptionWord[], operands: OperandWord[]) {
    this.name = name;
    this.names = name.split('|').map(glob);
    this.options = options;
    this.operands = operands;
  }

  static parse(text: string): CommandPattern {
    const words = typeof text === 'string' ? text.trim().split(/\s+/).filter(Boolean) : [];
    if (words.length === 0) throw new Error(`a command rule names a command and its arguments, ${EXAMPLE}; this one is empty`);
    for (const word of words) {
      if (REGEX_LIKE.test(word)) {
        throw new Error(`the command rule "${text}" looks like a regular expression ("${word}"): it names a command and its arguments as words, ${EXAMPLE}, with * as a wildcard and | between alternatives`);
      }
      if (/['"`;&<>]/.test(word)) throw new Error(`the command rule "${text}" has shell syntax in "${word}": write the command and its arguments as plain words, ${EXAMPLE}`);
      if (word.split('|').some((alt) => alt === '')) throw new Error(`the command rule "${text}" has an empty alternative in "${word}": write alternatives as a|b`);
    }
    const [nameWord, ...rest] = words;
    if (nameWord.startsWith('-')) throw new Error(`the command rule "${text}" starts with an option: its first word is the command's name, ${EXAMPLE}`);
    const options: OptionWord[] = [];
    const operands: OperandWord[] = [];
    for (const word of rest) {
      const alts = word.split('|');
      const optionAlts = alts.filter((a) => a.startsWith('-'));
      if (optionAlts.length === 0) operands.push({ text: word, alts: alts.map(glob) });
      else if (optionAlts.length === alts.length) options.push({ text: word, alts: alts.map((a) => option(a, text)) });
      else throw new Error(`the command rule "${text}" mixes options and operands in "${word}": alternatives must all be options or all be operands`);
    }
    return new CommandPattern(nameWord, options, operands);
  }

  match(argv: ReadonlyArray<string | null>): PatternMatch {
    const name = argv[0];
    if (name === undefined) return 'no';
    if (name === null) return 'maybe';
    if (!this.names.some((re) => re.test(basename(name)))) return 'no';
    const args = argv.slice(1);
    const shorts = new Set<string>();
    const longs: string[] = [];
    const others: string[] = [];
    let endOfOptions = false;
    for (const arg of args) {
      if (arg === null) continue;
      if (endOfOptions || arg === '-' || !arg.startsWith('-')) others.push(arg);
      else if (arg === '--') endOfOptions = true;
      else if (arg.startsWith('--')) longs.push(arg.slice(2).split('=')[0]);
      else for (const c of arg.slice(1)) shorts.add(c);
    }
    const present = (alt: OptionAlt) =>
      'short' in alt ? [...alt.short].every((c) => shorts.has(c)) : longs.some((l) => l.length > 0 && alt.long.startsWith(l));
    const optionsOk = this.options.every((o) => o.alts.some(present));
    let next = 0;
    for (const arg of others) if (next < this.operands.length && this.operands[next].alts.some((re) => re.test(arg))) next++;
    if (optionsOk && next === this.operands.length) return 'yes';
    // A word known only at run time may expand to the missing options or operands.
    return args.includes(null) ? 'maybe' : 'no';
  }

  describe(): string {
    const parts = [...this.options, ...this.operands].map((w) => describeWord(w));
    const name = this.name.split('|').join(' or ');
    if (parts.length === 0) return name;
    const last = parts.pop()!;
    return `${name} with ${parts.length ? `${parts.join(', ')} and ${last}` : last}`;
  }
}

function describeWord(word: OptionWord | OperandWord): string {
  const alts = word.text.split('|');
  // A lone cluster reads as its letters: "-rf" is "-r and -f".
  if (alts.length === 1 && /^-[^-]{2,}$/.test(alts[0])) return [...alts[0].slice(1)].map((c) => `-${c}`).join(' and ');
  return alts.length === 1 ? alts[0] : `${alts[0]} (or ${alts.slice(1).join(', ')})`;
}

function option(alt: string, rule: string): OptionAlt {
  if (alt === '-' || alt === '--') throw new Error(`the command rule "${rule}" has "${alt}" where an option is expected: an option is -x or --name`);
  if (alt.startsWith('--')) {
    const long = alt.slice(2);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(long)) throw new Error(`the command rule "${rule}" has an option that cannot be matched: "${alt}" (write --name, without a value)`);
    return { long };
  }
  const short = alt.slice(1);
  if (!/^[A-Za-z0-9]+$/.test(short)) throw new Error(`the command rule "${rule}" has an option that cannot be matched: "${alt}" (write -x, or -xyz for several)`);
  return { short };
}

/** `*` is the one wildcard; everything else is literal. */
function glob(word: string): RegExp {
  const body = word.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 || slash === path.length - 1 ? path : path.slice(slash + 1);
}
