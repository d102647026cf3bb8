// One SSH session channel of a client, bridged to a channel of the same kind on the target: the
// pty, environment and window size the client asked for, then a shell, a command or a subsystem;
// bytes both ways with flow control; window changes and signals passed on; the program's exit
// status or signal, EOF and close back to the client in that order. What passes is recorded
// beside the relay (TerminalRecorder, sftp/scp transfers), never changing what the client sees.
// On a target with guardrails, what is typed at a shell passes through TypedLineGate, which holds
// each Enter until the line it runs has been checked.
import type { ClientChannel, Client as SshClient, PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type { EventData, EventType, MaskCounts } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import type { Masker } from '../masking/masker.ts';
import { denialText } from '../guardrails/decision-text.ts';
import type { GuardrailPolicy } from '../guardrails/guardrail-policy.ts';
import { FileTransferRecorder } from './file-transfer-recorder.ts';
import { TerminalRecorder } from './terminal-recorder.ts';
import { TypedLineGate } from './typed-line-gate.ts';
import { followThrottle, ReadValve, type ThrottleSource } from '../read-valve.ts';

export interface ChannelContext {
  /** The channel's number in the session's recording. */
  number: number;
  /** The agent's login to the target (shared by the connection's channels). */
  upstream(): Promise<SshClient>;
  emit<T extends EventType>(type: T, data: EventData<T>, masked?: MaskCounts | null): void;
  masker: Masker;
  /** The target masks what the client's terminal shows too (not only the recording). */
  maskClientOutput: boolean;
  /** Rules on exec command lines and on lines typed at a shell. */
  guardrails: GuardrailPolicy;
  /** The recording spool: the target's output is not read while it throttles. */
  throttle: ThrottleSource;
  logger: Logger;
  /** Counts bytes for session.end. */
  countBytes(up: number, down: number): void;
  /** A request the target's policy refuses (agent or X11 forwarding). */
  denied(request: string, detail?: string): void;
  /**
   * Lines for the client while its channel waits for the target (access approval): each is
   * written on the channel's stderr; the returned function stops them.
   */
  onNotice(write: (line: string) => void): () => void;
  /**
   * A command an `approve` guardrail holds: resolves when approvers decided, with null (it may
   * run) or why not. `notice` shows the client what it waits for.
   */
  hold(command: string, rule: string, notice: (line: string) => void): Promise<string | null>;
  /** The channel is open (it can be ended by `end`) / closed. */
  opened(channel: OpenChannel): void;
  closed(channel: OpenChannel): void;
}

/** A running channel the session can end (kill, revoke, shutdown). */
export interface OpenChannel {
  /** Writes the reason on the client's terminal, then ends the channel. */
  end(message: string): void;
}

type Start = { kind: 'shell' } | { kind: 'exec'; command: string } | { kind: 'subsystem'; name: string };
type Exit = { code: number } | { signal: string; coreDumped: boolean; description: string };

const reply = (fn: (() => unknown) | undefined) => {
  if (typeof fn === 'function') fn();
};

export function bridgeSession(session: Session, ctx: ChannelContext): void {
  let pty: PseudoTtyInfo | undefined;
  const env: Record<string, string> = {};
  let up: ClientChannel | undefined;
  /** Lines typed at the shell, checked at Enter (a shell with a terminal on a target with rules). */
  let gate: TypedLineGate | null = null;
  let started = false;

  session.on('pty', (accept, _reject, info) => {
    pty = info;
    reply(accept);
  });
  session.on('env', (accept, _reject, info) => {
    // Passed to the target, whose sshd decides what it accepts (AcceptEnv).
    if (Object.keys(env).length < 64) env[info.key] = info.val;
    reply(accept);
  });
  session.on('window-change', (accept, _reject, info) => {
    if (pty) pty = { ...pty, cols: info.cols, rows: info.rows, width: info.width, height: info.height };
    up?.setWindow(info.rows, info.cols, info.height, info.width);
    gate?.resize(info.cols, info.rows);
    ctx.emit('term.resize', { channel: ctx.number, cols: info.cols, rows: info.rows });
    reply(accept);
  });
  session.on('signal', (accept, _reject, info) => {
    up?.signal(info.name);
    reply(accept);
  });
  session.on('auth-agent', (_accept, reject) => {
    ctx.denied('auth-agent', 'agent forwarding is not offered through Vigil');
    reply(reject);
  });
  session.on('x11', (_accept, reject) => {
    ctx.denied('x11', 'X11 forwarding is not offered through Vigil');
    reply(reject);
  });

  const begin = (start: Start, accept: () => ServerChannel | undefined, reject: () => void) => {
    if (started) return reply(reject);
    started = true;
    // Accepted at once: the client may send EOF right after its request (ssh with no input does),
    // and a request not yet answered by then can no longer be accepted. What the client sends
    // meanwhile waits in the channel until the target's side is open.
    const down = accept();
    if (!down) return;
    void open(start, down).catch((err: Error) => {
      ctx.logger.warn({ err: err.message }, 'ssh channel failed');
      refuse(down, `the channel failed: ${err.message}`);
    });
  };
  session.on('shell', (accept, reject) => begin({ kind: 'shell' }, accept, reject));
  session.on('exec', (accept, reject, info) => begin({ kind: 'exec', command: info.command }, accept, reject));
  session.on('subsystem', (accept, reject, info) => begin({ kind: 'subsystem', name: info.name }, accept, reject));

  async function open(start: Start, down: ServerChannel): Promise<void> {
    if (start.kind === 'exec') {
      const decision = await ctx.guardrails.checkCommand(start.command);
      if (decision.action === 'deny') {
        const command = ctx.masker.maskText(start.command);
        ctx.emit('ssh.exec', { channel: ctx.number, command: command.text }, command.counts);
        ctx.emit('guardrail.hit', { rule: decision.rule ?? '', action: 'deny', statement: command.text, ...(decision.form ? { form: decision.form } : {}) }, command.counts);
        refuse(down, denialText(decision, 'command'), 1);
        return;
      }
      if (decision.action === 'approve') {
        const command = ctx.masker.maskText(start.command);
        ctx.emit('guardrail.hit', { rule: decision.rule ?? '', action: 'approve', statement: command.text, ...(decision.form ? { form: decision.form } : {}) }, command.counts);
        const refusal = await ctx.hold(command.text, decision.rule ?? '', (line) => down.stderr.write(`vigil: ${line}\r\n`));
        if (refusal !== null) {
          ctx.emit('ssh.exec', { channel: ctx.number, command: command.text }, command.counts);
          refuse(down, refusal, 1);
          return;
        }
      }
    }
    let client: SshClient;
    const stopNotices = ctx.onNotice((line) => down.stderr.write(`vigil: ${line}\r\n`));
    try {
      client = await ctx.upstream();
    } catch (err) {
      // The client sees why (a wrong host key, an unreachable host), then the channel closes.
      refuse(down, (err as Error).message);
      return;
    } finally {
      stopNotices();
    }
    const ptyOptions = pty ? { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height, modes: pty.modes } : undefined;
    const opened = await new Promise<ClientChannel | Error>((resolve) => {
      const done = (err: Error | undefined, channel: ClientChannel) => resolve(err ?? channel);
      if (start.kind === 'shell') client.shell(ptyOptions ?? false, { env }, done);
      else if (start.kind === 'exec') client.exec(start.command, { env, ...(ptyOptions ? { pty: ptyOptions } : {}) }, done);
      else client.subsys(start.name, done);
    });
    if (opened instanceof Error) {
      ctx.logger.info({ err: opened.message, request: start.kind }, 'the target refused a channel request');
      refuse(down, `the target refused the ${start.kind} request: ${opened.message}`);
      return;
    }
    up = opened;
    relay(start, down, opened);
  }

  function relay(start: Start, down: ServerChannel, upstream: ClientChannel): void {
    const n = ctx.number;
    const ptyView = pty ? { term: pty.term, cols: pty.cols, rows: pty.rows } : undefined;
    let terminal: TerminalRecorder | null = null;
    let files: FileTransferRecorder | null = null;
    // With output masking the client gets the recorder's masked text instead of the target's bytes
    // (terminals only: a file transfer's bytes are never rewritten).
    const clientView = ctx.maskClientOutput ? down : null;
    // Paths are masked like everything else that is recorded (a home folder can be an address).
    const emitFile = (data: EventData<'ssh.file'>) => {
      const path = ctx.masker.maskText(data.path);
      ctx.emit('ssh.file', { ...data, path: path.text }, path.counts);
    };
    if (start.kind === 'shell') {
      ctx.emit('ssh.shell', { channel: n, ...(ptyView ? { pty: ptyView } : {}) });
      terminal = new TerminalRecorder({ channel: n, masker: ctx.masker, events: terminalEvents(ctx, clientView), pty: !!pty });
    } else if (start.kind === 'exec') {
      const command = ctx.masker.maskText(start.command);
      ctx.emit('ssh.exec', { channel: n, command: command.text, ...(ptyView ? { pty: ptyView } : {}) }, command.counts);
      files = FileTransferRecorder.forScp(start.command, n, emitFile);
      if (!files) terminal = new TerminalRecorder({ channel: n, masker: ctx.masker, events: terminalEvents(ctx, clientView), pty: !!pty });
    } else {
      ctx.emit('ssh.subsystem', { channel: n, name: start.name });
      if (start.name === 'sftp') files = FileTransferRecorder.forSftp(n, emitFile);
    }

    let exit: Exit | undefined;
    let ended = false;
    const handle: OpenChannel = {
      end: (message) => {
        if (ended) return;
        down.stderr.write(`\r\nvigil: ${message}\r\n`);
        exit ??= { signal: 'TERM', coreDumped: false, description: message };
        upstream.close();
        finish();
      },
    };
    ctx.opened(handle);
    // An exec with a terminal may be a shell too (`ssh -t host bash`, `sudo -i`): its typed lines are
    // checked the same way, or starting a shell by name would walk around the check.
    if (start.kind !== 'subsystem' && pty && !ctx.guardrails.empty) gate = typedLineGate(pty);

    // The target's output is read only as fast as the client takes it and the recording keeps up
    // (a fast `cat` slows to the persister's pace instead of leaving a hole in the recording).
    const outValve = new ReadValve(upstream);
    const errValve = new ReadValve(upstream.stderr);
    const unfollow = followThrottle(ctx.throttle, [outValve, errValve]);
    // With output masking the masked text is written as the recorder emits it, not the chunk.
    // (What a paused stream still held when the channel ended is not written after its end.)
    upstream.on('data', (chunk: Buffer) => {
      if (ended) return;
      ctx.countBytes(0, chunk.length);
      terminal?.output(chunk);
      gate?.output(chunk);
      files?.fromServer(chunk);
      if (clientView && terminal) outValve.waitDrain(down);
      else outValve.forward(down, chunk);
    });
    upstream.stderr.on('data', (chunk: Buffer) => {
      if (ended) return;
      ctx.countBytes(0, chunk.length);
      terminal?.output(chunk, 'stderr');
      gate?.output(chunk);
      if (clientView && terminal) errValve.waitDrain(down);
      else errValve.forward(down.stderr, chunk);
    });
    down.on('data', (chunk: Buffer) => {
      ctx.countBytes(chunk.length, 0);
      terminal?.input(chunk);
      files?.fromClient(chunk);
    });
    // Flow control both ways; EOF from the client is passed on (half-close), the rest on close.
    // Through the gate, an Enter waits for its line's check; the rest passes as typed.
    if (gate) down.pipe(gate);
    else down.pipe(upstream);

    upstream.on('exit', (code: number | null, signal?: string, coreDumped?: boolean, description?: string) => {
      // ssh2 names signals SIGTERM; on the wire and in the recording they are TERM.
      exit = code !== null && code !== undefined ? { code } : { signal: (signal ?? 'KILL').replace(/^SIG/, ''), coreDumped: !!coreDumped, description: description ?? '' };
    });
    upstream.on('close', () => finish());
    down.on('close', () => {
      upstream.close();
      finish();
    });
    upstream.on('error', (err: Error) => {
      ctx.logger.warn({ err: err.message, channel: n }, 'upstream channel error');
      finish();
    });
    down.on('error', (err: Error) => {
      ctx.logger.warn({ err: err.message, channel: n }, 'client channel error');
      upstream.close();
      finish();
    });

    function typedLineGate(size: PseudoTtyInfo): TypedLineGate {
      const g = new TypedLineGate({
        policy: ctx.guardrails,
        host: upstream,
        cols: size.cols,
        rows: size.rows,
        tell: (text) => {
          if (!ended) down.stderr.write(text);
        },
        // Recorded as the exec path records a command line: masked.
        hit: (rule, action, line, form) => {
          const masked = ctx.masker.maskText(line);
          ctx.emit('guardrail.hit', { rule, action, statement: masked.text, form: `typed at the shell${form ? `, ${form}` : ''}` }, masked.counts);
        },
        hold: (line, rule, notice) => ctx.hold(ctx.masker.maskText(line).text, rule, notice),
      });
      g.on('error', (err: Error) => {
        // The typed lines can no longer be checked: the channel ends rather than run them unchecked.
        ctx.logger.warn({ err: err.message, channel: n }, 'typed line guardrails failed');
        handle.end(`the guardrails on typed lines failed: ${err.message}`);
      });
      return g;
    }

    function finish(): void {
      if (ended) return;
      unfollow();
      // The channel closes once its stdout ended; stderr a valve held may still buffer output:
      // read() hands it to the 'data' handler above, so it is recorded and written before the end.
      while (upstream.stderr.readableLength > 0 && upstream.stderr.read() !== null);
      ended = true;
      gate?.dispose();
      terminal?.close();
      files?.close();
      if (exit) ctx.emit('ssh.exit', 'code' in exit ? { channel: n, exitCode: exit.code } : { channel: n, signal: exit.signal });
      // After everything already written: an empty write's callback runs once the writes before it
      // went out, so the exit status follows the last output, then EOF and close.
      const done = () => {
        if (exit && 'code' in exit) down.exit(exit.code);
        else if (exit) down.exit(exit.signal, exit.coreDumped, exit.description);
        down.end();
        ctx.closed(handle);
      };
      if (down.writable) down.write(Buffer.alloc(0), done);
      else done();
    }
  }
}

/** Tells the client why its channel cannot run, then ends it as a failed program would. */
function refuse(down: ServerChannel, message: string, exitCode = 255): void {
  down.stderr.write(`vigil: ${message}\r\n`);
  down.exit(exitCode);
  down.end();
}

function terminalEvents(ctx: ChannelContext, client: ServerChannel | null) {
  return {
    output: (data: EventData<'term.output'>, masked: MaskCounts | null) => {
      if (client) (data.stream === 'stderr' ? client.stderr : client).write(data.text);
      ctx.emit('term.output', data, masked);
    },
    input: (data: EventData<'term.input'>, masked: MaskCounts | null) => ctx.emit('term.input', data, masked),
  };
}
