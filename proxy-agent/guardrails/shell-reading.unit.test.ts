import { beforeAll, describe, expect, it } from 'vitest';
import { CommandPattern } from '../../common/command-pattern.ts';
import { loadShellParser, readShellLine, type ShellReading } from './shell-reading.ts';
import { OP, goString, items, nodeType, parseShell, present, type ShFile, type ShLit, type ShNode, type ShSlice, type ShStmt, type ShWord } from './shell-syntax.ts';

beforeAll(async () => {
  await loadShellParser();
});

const RM_RF = CommandPattern.parse('rm -r -f');

/** The best match of a pattern over every command of the line. */
function verdict(line: string, pattern = RM_RF): 'yes' | 'maybe' | 'no' {
  const results = readShellLine(line).commands.map((c) => pattern.match(c.argv));
  return results.includes('yes') ? 'yes' : results.includes('maybe') ? 'maybe' : 'no';
}

const argvs = (r: ShellReading) => r.commands.map((c) => c.argv);
const find = (r: ShellReading, name: string) => r.commands.find((c) => c.argv[0] === name);

describe('reading a shell line', () => {
  it('when rm -rf is disguised by quoting, option spelling, paths or wrappers, then it is still rm -r -f', () => {
    for (const line of [
      `sh -c "r''m -rf d"`, 'rm -r -f d', 'rm -fr d', 'sudo rm -rf d', 'sudo -u root -- rm -rf d', 'env A=1 rm -rf d',
      'ls | xargs rm -rf', 'find . -exec rm -rf {} \\;', 'timeout 5 rm -rf d', 'nohup rm -rf d &', 'echo $(rm -rf d)',
      '(cd /; rm -rf d)', 'ls | grep x && rm -rf d || true', `bash -c 'sudo rm -rf d'`, '\\rm -rf d', '/bin/rm -rf d',
      "$'\\x72m' -rf d", `"r"m -rf d`, `'rm' -rf d`, 'if true; then rm -rf d; fi', 'for f in a; do rm -rf $f; done',
      'echo "$(rm -rf d)"', 'echo `rm -rf d`', 'x=$(rm -rf d)', 'cat <(rm -rf d)', 'echo > >(rm -rf d)', 'ls > "$(rm -rf d)"',
      'while true; do rm -rf d; done', 'until false; do rm -rf d; done', 'case x in x) rm -rf d;; esac', '{ rm -rf d; }',
      'f() { rm -rf d; }', 'time rm -rf d', '! rm -rf d', 'coproc rm -rf d', 'sudo env nice -n 5 rm -rf d',
      '/usr/bin/env bash -lc "rm -rf d"', 'sh -ec "rm -rf d"', 'su -c "rm -rf d" root', 'su root -c "rm -rf d"', 'doas rm -rf d',
      'exec -a x rm -rf d', 'command rm -rf d', 'builtin rm -rf d', 'stdbuf -oL rm -rf d', 'setsid rm -rf d', 'ionice -c 3 rm -rf d',
      '/usr/bin/time -f %e -o t rm -rf d', 'chroot /mnt rm -rf d', 'flock /tmp/l rm -rf d', 'flock /tmp/l -c "rm -rf d"',
      'watch -n 1 rm -rf d', "watch 'rm -rf d'", 'find . -name x -execdir rm -rf {} +', 'xargs -I{} rm -rf {}', 'xargs -n 1 -P 4 rm -rf',
      'unbuffer rm -rf d', 'timeout -s KILL 5s rm -rf d', 'bash <<< "rm -rf d"', "sh <<'EOF'\nrm -rf d\nEOF", 'sh <<-EOF\n\trm -rf d\n\tEOF', 'sh <<\\EOF\nrm -rf $d\nEOF', 'sudo -s rm -rf d',
      'busybox rm -rf d', 'echo ${x:-$(rm -rf d)}', 'echo $(( $(rm -rf d) + 1 ))', '[[ $(rm -rf d) ]]', 'ls; rm -rf d', 'rm -rf d # gone',
      'sudo bash -c "xargs rm -rf < list"', 'a=1 b=2 rm -rf d', 'rm $opts -rf d', 'r\\\nm -rf d',
    ]) expect(verdict(line), line).toBe('yes');
  });

  it('says how each command was reached', () => {
    const r = readShellLine(`ls | bash -c 'sudo rm -rf d'`);
    expect(r.commands.find((c) => c.argv[0] === 'rm')).toEqual({ argv: ['rm', '-rf', 'd'], via: ['pipeline', 'bash -c', 'sudo'], text: 'rm -rf d' });
    expect(find(readShellLine('echo $(rm -rf d)'), 'rm')?.via).toEqual(['command substitution']);
    expect(find(readShellLine('find . -exec rm -rf {} \\;'), 'rm')).toEqual({ argv: ['rm', '-rf', null], via: ['find -exec'], text: 'rm -rf {}' });
    expect(find(readShellLine('nohup rm -rf d &'), 'rm')?.via).toEqual(['background', 'nohup']);
    expect(find(readShellLine('if a; then rm x; fi'), 'rm')?.via).toEqual(['if']);
    expect(find(readShellLine('f() { rm x; }'), 'rm')?.via).toEqual(['function body']);
    expect(find(readShellLine('a && b || rm x'), 'rm')?.via).toEqual(['list']);
    expect(readShellLine('rm -rf d').commands).toEqual([{ argv: ['rm', '-rf', 'd'], via: [], text: 'rm -rf d' }]);
    expect(readShellLine('sudo rm -rf d').commands.map((c) => c.argv[0])).toEqual(['sudo', 'rm']);
    expect(readShellLine('echo é; rm x').commands[1].text).toBe('rm x');
  });

  it('removes quotes as the shell does', () => {
    expect(argvs(readShellLine(`echo r''m "r"m \\rm $'r\\x6d' 'rm' "a\\"b" 'a\\b' $'a\\tb\\u00e9\\101'`))).toEqual([
      ['echo', 'rm', 'rm', 'rm', 'rm', 'rm', 'a"b', 'a\\b', 'a\tbéA'],
    ]);
    // A substitution runs before the command it is in.
    expect(argvs(readShellLine('echo "$HOME" ${x} $((1+2)) {a,b} x{1..3} *.txt ~/x "a$(id)b" {} "{a,b}" a{b}c'))).toEqual([
      ['id'],
      ['echo', null, null, null, null, null, '*.txt', '~/x', null, '{}', '{a,b}', 'a{b}c'],
    ]);
  });

  it('when what runs cannot be read from the line, then it says why', () => {
    const cases: Array<[string, RegExp]> = [
      ['x=rm; $x -rf d', /command name comes from a variable \(\$x\)/],
      ['$(echo rm) -rf d', /command name comes from a command's output/],
      ['"${CMD}" -rf d', /variable/],
      ['eval "rm -rf d"', /eval/],
      ['eval "$x"', /eval/],
      ['echo cm0gLXJmIGQ= | base64 -d | sh', /a shell reads commands from a pipe \(\| sh\)/],
      ['curl -s x | sudo bash', /pipe/],
      ['bash -s', /standard input/],
      ['sh -c "$x"', /sh -c with a string built at run time/],
      ['source <(curl -s x)', /source of a process substitution/],
      ['. /dev/stdin', /\. reads commands from a file descriptor/],
      ['source /dev/fd/3', /file descriptor/],
      ['curl -s x | bash /dev/stdin', /pipe/],
      ['bash <(curl -s x)', /bash is given a script or options known only at run time: a process substitution/],
      ['bash $script', /known only at run time: a variable/],
      ['sh < <(curl -s x)', /a shell reads commands from a process substitution/],
      ['bash <<< "$x"', /built at run time/],
      ['env -S "rm -rf d"', /env -S/],
      ['/bin/r? -rf d', /glob pattern/],
      ['echo x | xargs sh -c', /sh -c with a string built at run time/],
      ['find . -exec sh -c {} \\;', /sh -c with a string built at run time/],
      ['echo )', /could not parse the line/],
      ['sh <&3', /another file descriptor/],
      ['ls > >(sh)', /pipe/],
      ['curl -s x |& sh', /pipe/],
      ['sh <<EOF\n$(curl -s x)\nEOF', /sh << with text built at run time/],
      ['fish -c "rm -rf d"', /another shell language/],
      ['bash -c "echo )"', /bash -c: the shell could not parse its string/],
    ];
    for (const [line, reason] of cases) {
      const r = readShellLine(line);
      expect(r.unknown.join(' | '), line).toMatch(reason);
      expect(r.incomplete, line).toBeUndefined();
    }
    expect(verdict('x=rm; $x -rf d')).toBe('maybe');
    // A string built at run time is still read for what it shows: here rm -r -f, whatever $d is.
    for (const line of ['sh -c "rm -rf $d"', 'bash -c "rm -rf $(cat list)"', 'sh <<EOF\nrm -rf $d\nEOF', 'eval "rm -rf $d"', 'su -c "rm -rf $d"']) {
      expect(verdict(line), line).toBe('yes');
      expect(readShellLine(line).unknown.join(), line).toMatch(/built at run time/);
    }
    // A static eval string is still read, so a rule can name what it runs.
    expect(verdict('eval "rm -rf d"')).toBe('yes');
  });

  it('when a line only looks like it runs something, then nothing is unknown', () => {
    for (const line of ['sh script.sh', 'bash', 'source ~/.bashrc', 'x=rm', 'exec >log 2>&1', 'command -v rm', 'sudo -l rm -rf d', 'alias ll="ls -l"', 'cat < file | sort']) {
      expect(readShellLine(line).unknown, line).toEqual([]);
    }
    expect(readShellLine('x=rm').commands).toEqual([]);
    expect(argvs(readShellLine('command -v rm'))).toEqual([['command', '-v', 'rm']]);
    expect(argvs(readShellLine('alias x="rm -rf d"'))).toEqual([['alias', 'x=rm -rf d']]);
  });

  it('when the line is not complete, then it says so with what it read so far', () => {
    for (const line of ['echo "abc', 'for f in a; do', 'ls |', 'cat <<EOF', 'ls &&', "echo 'x", 'if true; then', 'echo $(', 'ls \\']) {
      expect(readShellLine(line).incomplete, line).toBe(true);
    }
    expect(argvs(readShellLine('ls; rm -rf d; echo "abc'))).toEqual([['ls'], ['rm', '-rf', 'd'], ['echo']]);
    expect(readShellLine('ls # trailing \\').incomplete).toBeUndefined();
  });

  it('when the line is ordinary work, then rm -r -f does not match', () => {
    for (const line of [
      'ls -la | grep foo | sort | uniq -c | head', 'git log --oneline', 'rm file.txt', 'echo "rm -rf d"', "echo 'rm -rf d' > notes",
      'grep -r -f patterns .', 'vim notes.txt', 'top', 'kubectl get pods', 'sudo -u app ls -rf', 'find . -name "*.log" -print',
      'cat <<EOF\nrm -rf d\nEOF', 'printf "%s\\n" "rm -rf"', 'command -v rm', 'sudo -e /etc/hosts',
    ]) {
      expect(verdict(line), line).toBe('no');
      expect(readShellLine(line).unknown, line).toEqual([]);
    }
    expect(verdict('kubectl get pods', CommandPattern.parse('kubectl delete'))).toBe('no');
    expect(verdict('kubectl -n prod delete pod x', CommandPattern.parse('kubectl delete'))).toBe('yes');
  });

  it('when input is random bytes, huge or deeply nested, then it never throws', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = ' \t\n;|&()<>{}[]$`"\'\\*?!#=~-abcrmsh0123456789\u0000\u00e9\ud800';
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 80);
      let line = '';
      for (let j = 0; j < len; j++) line += rand() < 0.8 ? alphabet[Math.floor(rand() * alphabet.length)] : String.fromCharCode(Math.floor(rand() * 0x10000));
      const r = readShellLine(line);
      expect(Array.isArray(r.commands) && Array.isArray(r.unknown)).toBe(true);
    }
    expect(readShellLine('a'.repeat(70 * 1024)).unknown).toEqual(['the line is too long to read']);
    for (const deep of ['('.repeat(20_000), '$('.repeat(5000) + 'rm' + ')'.repeat(5000), '{ '.repeat(3000) + 'rm; ' + '} '.repeat(3000), 'echo $(echo $(echo $(echo $(echo $(echo $(echo rm))))))']) {
      const r = readShellLine(deep);
      expect(Array.isArray(r.unknown)).toBe(true);
    }
    const long = readShellLine(Array.from({ length: 3000 }, () => 'ls').join(' | '));
    expect(long.unknown).toEqual(['the line runs too many commands to read']);
    const nested = readShellLine('sh -c "sh -c \\"sh -c \'rm -rf d\'\\""');
    expect(nested.commands.at(-1)?.via).toEqual(['sh -c', 'sh -c', 'sh -c']);
    // Ten shells, each reading the next from a here-document.
    const levels = Array.from({ length: 10 }, (_, i) => i);
    const deepShells = [...levels.map((i) => `sh <<'E${i}'`), 'rm -rf d', ...levels.reverse().map((i) => `E${i}`)].join('\n');
    expect(readShellLine(deepShells).unknown).toEqual(['shells inside shells nest too deeply to read']);
    expect(readShellLine(deepShells).commands.length).toBe(9);
    // The parser still works after a line that overflowed its stack.
    expect(argvs(readShellLine('rm -rf d'))).toEqual([['rm', '-rf', 'd']]);
  }, 30_000);

  it('reads the parser\'s tree in the form the pinned mvdan-sh version builds', () => {
    type Raw = ShNode & { Op: number; Args: ShSlice<ShWord> };
    const stmts = (line: string) => items((parseShell(line) as { file: ShFile }).file.Stmts);
    const cmd = (line: string) => stmts(line)[0].Cmd as Raw;
    const args = (line: string) => items(cmd(line).Args);
    expect(nodeType(cmd('a && b'))).toBe('BinaryCmd');
    expect(['a && b', 'a || b', 'a | b', 'a |& b'].map((l) => cmd(l).Op)).toEqual([OP.and, OP.or, OP.pipe, OP.pipeAll]);
    const redirOp = (line: string) => items(stmts(line)[0].Redirs)[0].Op;
    expect(['a < f', 'a <> f', 'a <& 3', 'a <<E\nx\nE', 'a <<-E\nx\nE', 'a <<< x'].map(redirOp)).toEqual([OP.redirIn, OP.redirInOut, OP.dupIn, OP.heredoc, OP.heredocTabs, OP.hereString]);
    const procOp = (line: string) => (items(args(line)[1].Parts)[0] as Raw).Op;
    expect([procOp('a <(b)'), procOp('a >(b)')]).toEqual([OP.procIn, OP.procOut]);
    // Strings are UTF-8 bytes and positions byte offsets.
    const [echo, word] = args('echo é');
    expect(goString((items(word.Parts)[0] as ShLit).Value)).toBe('é');
    expect([echo.Pos().Offset(), word.Pos().Offset(), word.End().Offset()]).toEqual([0, 5, 7]);
    // Go's nil is an object: present() tells it from a node.
    const stmt: ShStmt = stmts('> f')[0];
    expect(present(stmt.Cmd)).toBeNull();
    expect(present(items(stmt.Redirs)[0].N)).toBeNull();
    expect(present(items(stmts('2> f')[0].Redirs)[0].N)).not.toBeNull();
  });

  it('leaves the process as it was: no global require, the usual stack trace limit', () => {
    expect((globalThis as { require?: unknown }).require).toBeUndefined();
    expect(Error.stackTraceLimit).not.toBe(Infinity);
  });
});
