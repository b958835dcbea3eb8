// Starting CGI processes off lantern's event loop. Node's child_process.spawn() forks the whole
// Node process and waits for the child's exec inside the call: measured on the bench machine,
// 7.7 ms per script with the event loop blocked, 70 % of a CGI run's wall time, and three times
// lighttpd's CPU per request (docs/performance.md, case cgi). A small helper process does the
// forking instead, as lighttpd (a small process) does it itself: a perl loop (perl-base is part
// of every Debian system) that lantern starts once, on the first CGI request.
//
// How a script starts: lantern writes a frame to the helper's stdin (`<length>\n` then NUL-
// separated fields: token, program, working directory, argument count, arguments, environment
// `NAME=value`, all as bytes, so the environment reaches the script exactly as received); the
// helper connects three times to lantern's private unix socket (stdin, stdout, stderr:
// "<token> <role>\n" first), sets the environment and forks; the child puts the sockets on fds
// 0-2, changes directory and execs, and nothing more (on this kind of VM each page a forked child
// touches costs a copy and a TLB flush). The helper reports on its stdout `P <token> <pid>` once
// the exec succeeded (a close-on-exec pipe tells it, as libuv does), `E <token> <errno>` when a
// connect, the fork, the chdir or the exec failed, and `X <pid> c<code>` / `X <pid> s<signal>`
// when it reaped a child. lantern signals scripts itself (by pid, until their `X`).
//
// What a launch returns behaves as a ChildProcess for process-transport.ts (stdin, stdout and
// stderr streams, pid, kill(), and the 'spawn', 'error', 'exit' and 'close' events), so the
// exec: transport runs the same code over either; without perl, or when the helper cannot
// start, scripts are started with child_process.spawn().
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * What a launch yields: the part of ChildProcess the exec: transport uses. The stdio streams are
 * there from the 'spawn' event on (a ChildProcess has them at once).
 */
export interface LaunchedProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface LaunchSpec {
  /** The program to execute (absolute path). */
  file: string;
  /** argv, argv[0] included. */
  argv: string[];
  cwd: string;
  /** NAME, value pairs as byte strings (latin1: one char per byte). */
  env: ReadonlyArray<readonly [string, string]>;
}

/** The helper, run by `perl -e`: see the header. Reads frames on stdin, reports on stdout. */
const HELPER = String.raw`
use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use POSIX ();
my $path = shift @ARGV;
binmode STDIN; binmode STDOUT; $| = 1;
my @reaped;
my %execs;
my $sel = IO::Select->new(\*STDIN);
$SIG{CHLD} = sub { while ((my $p = waitpid(-1, POSIX::WNOHANG())) > 0) { push @reaped, [$p, $?]; } };
$SIG{PIPE} = 'IGNORE';
# Pids whose exec is not reported yet: their exit waits, so that lantern knows the pid first.
my %starting;
sub report {
  my @later;
  for my $r (splice @reaped) {
    my ($p, $st) = @$r;
    if ($starting{$p}) { push @later, $r; next; }
    print "X $p ", (($st & 127) ? 's' . ($st & 127) : 'c' . ($st >> 8)), "\n";
  }
  push @reaped, @later;
}
sub launch {
  my ($token, $file, $cwd, $argc, @rest) = @_;
  my @argv = splice(@rest, 0, $argc);
  # Everything that can be done before the fork is: the child only moves its sockets onto
  # fds 0-2, changes directory and execs (each page a forked child touches is copied).
  my @s;
  for my $role (0, 1, 2) {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path);
    if (!$s || !syswrite($s, "$token $role\n")) { print "E $token ", ($! + 0), "\n"; return; }
    push @s, $s;
  }
  my @fds = map { fileno($_) } @s;
  my ($er, $ew);
  if (!pipe($er, $ew)) { print "E $token ", ($! + 0), "\n"; return; }
  local %ENV = ();
  for my $kv (@rest) { my $eq = index($kv, '='); $ENV{substr($kv, 0, $eq)} = substr($kv, $eq + 1) if $eq > 0; }
  my $pid = fork();
  if (!defined $pid) { print "E $token ", ($! + 0), "\n"; close $er; close $ew; return; }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    for my $fd (0, 1, 2) { defined POSIX::dup2($fds[$fd], $fd) or do { syswrite $ew, ($! + 0); POSIX::_exit(127); }; }
    chdir $cwd or do { syswrite $ew, ($! + 0); POSIX::_exit(127); };
    { no warnings 'exec'; exec { $file } @argv; }
    syswrite $ew, ($! + 0);
    POSIX::_exit(127);
  }
  close $ew;
  close $_ for @s;
  # The exec is awaited in the main loop, with the other launches: none waits for another.
  $execs{fileno($er)} = [$token, $pid, $er, ''];
  $starting{$pid} = 1;
  $sel->add($er);
}
# A launch's close-on-exec pipe is readable: EOF once the exec succeeded, an errno if it failed.
sub exec_done {
  my ($fh) = @_;
  my $e = $execs{fileno($fh)};
  my $n = sysread($fh, $e->[3], 16, length $e->[3]);
  return if !defined $n && $!{EINTR};
  return if defined $n && $n > 0;
  $sel->remove($fh);
  delete $execs{fileno($fh)};
  close $fh;
  if (length $e->[3]) { print "E $e->[0] $e->[3]\n"; } else { print "P $e->[0] $e->[1]\n"; }
  delete $starting{$e->[1]};
}
my $buf = '';
while (1) {
  report();
  my @ready = $sel->can_read(1);
  my $input = 0;
  for my $fh (@ready) { if (fileno($fh) == 0) { $input = 1; } else { exec_done($fh); } }
  report();
  next unless $input;
  my $n = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $n) { next if $!{EINTR}; last; }
  last if $n == 0;
  while (1) {
    my $i = index($buf, "\n");
    last if $i < 0;
    my $len = substr($buf, 0, $i);
    last if length($buf) < $i + 1 + $len;
    my $payload = substr($buf, $i + 1, $len);
    substr($buf, 0, $i + 1 + $len) = '';
    launch(split(/\0/, $payload, -1));
    report();
  }
}
`;

/**
 * The same helper in Python 3, used when it is installed: os.posix_spawn() starts each script
 * without copying the helper's memory (glibc spawns with CLONE_VFORK), which halves a short
 * script's CPU on a VM where every copied page costs a TLB flush (measured: perl hello.pl
 * 5.8 ms of CPU after posix_spawn, 8.4 ms after perl's fork, 12.7 ms after Python's).
 */
const PY_HELPER = String.raw`
import os, sys, socket, select, signal
path = sys.argv[1]
out = sys.stdout.buffer
def emit(line):
    out.write(line.encode('ascii'))
    out.flush()
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda s, f: None)
def reap():
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        emit('X %d %s\n' % (pid, ('s%d' % os.WTERMSIG(st)) if os.WIFSIGNALED(st) else ('c%d' % os.WEXITSTATUS(st))))
def launch(fields):
    token = fields[0].decode('ascii')
    file, cwd, argc = fields[1], fields[2], int(fields[3])
    argv = fields[4:4 + argc]
    env = {}
    for kv in fields[4 + argc:]:
        i = kv.find(b'=')
        if i > 0:
            env[kv[:i]] = kv[i + 1:]
    socks = []
    try:
        for role in range(3):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(s)
            s.connect(path)
            s.sendall(b'%s %d\n' % (token.encode('ascii'), role))
        os.chdir(cwd)
        pid = os.posix_spawn(file, argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, socks[i].fileno(), i) for i in range(3)], setsigdef=(signal.SIGPIPE, signal.SIGCHLD))
        emit('P %s %d\n' % (token, pid))
    except OSError as e:
        emit('E %s %d\n' % (token, e.errno or 5))
    finally:
        for s in socks:
            s.close()
        os.chdir('/')
buf = b''
while True:
    try:
        ready = select.select([0, wake_r], [], [])[0]
    except InterruptedError:
        continue
    if wake_r in ready:
        try:
            os.read(wake_r, 512)
        except BlockingIOError:
            pass
    reap()
    if 0 in ready:
        data = os.read(0, 65536)
        if not data:
            break
        buf += data
        while True:
            i = buf.find(b'\n')
            if i < 0:
                break
            n = int(buf[:i])
            if len(buf) < i + 1 + n:
                break
            payload = buf[i + 1:i + 1 + n]
            buf = buf[i + 1 + n:]
            launch(payload.split(b'\0'))
        reap()
`;

/** errno number → its name (ENOENT...), for the transport's answers. */
const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));

/** A process started by the helper, shaped as a ChildProcess. */
class HelperProcess extends EventEmitter implements LaunchedProcess {
  pid: number | undefined = undefined;
  stdin: net.Socket | null = null;
  stdout: net.Socket | null = null;
  stderr: net.Socket | null = null;
  /** Sockets attached, those still open, and whether the helper reaped the process. */
  private attached = 0;
  private openSockets = 0;
  private reaped = false;
  private spawned = false;
  private failed = false;
  private closed = false;
  /** Waits for the connections of a process reaped before all of them were accepted. */
  private lateTimer: NodeJS.Timeout | null = null;
  /** Lantern's listening socket closed: connections still in its backlog are lost. */
  private socketGone = false;

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.pid === undefined || this.reaped) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** One of the child's three connections arrived. */
  attach(role: number, socket: net.Socket): void {
    if (role === 0) this.stdin = socket;
    else if (role === 1) this.stdout = socket;
    else this.stderr = socket;
    this.attached++;
    this.openSockets++;
    // The script closed its side (it exited, or closed that fd): ours goes too, so the socket
    // closes. What the script writes to its stdin is dropped.
    socket.once('end', () => socket.end());
    if (role === 0) socket.resume();
    socket.once('close', () => {
      this.openSockets--;
      this.maybeClose();
    });
    this.maybeSpawned();
  }

  /** The helper says the exec succeeded. */
  started(pid: number): void {
    this.pid = pid;
    this.maybeSpawned();
  }

  private maybeSpawned(): void {
    if (this.spawned || this.failed || this.pid === undefined || this.stdin === null || this.stdout === null || this.stderr === null) return;
    this.spawned = true;
    this.emit('spawn');
  }

  /** The fork, a connect, the chdir or the exec failed (errno). */
  fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
    this.emit('error', err);
    this.reaped = true;
    // As a ChildProcess whose spawn failed: 'close' follows the error (after its sockets closed).
    this.maybeClose();
  }

  /** Lantern's listening socket closed (the helper died): connections not read yet never will be. */
  listenerGone(): void {
    this.socketGone = true;
    this.maybeClose();
  }

  /** The helper reaped it. */
  exited(how: string): void {
    this.reaped = true;
    const n = Number(how.slice(1));
    if (how[0] === 's') this.emit('exit', null, signalName(n));
    else this.emit('exit', n, null);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (!this.reaped || this.openSockets > 0 || this.closed) return;
    if (!this.failed && this.attached < 3) {
      // Reaped before lantern read all its connections (a quick script, or lantern busy: the
      // helper's reports run ahead of the reads). Both helpers report a start only after the
      // three connections were made, so they are in the socket's backlog and will come, however
      // long lantern takes to get to them (a 2 s limit here failed scripts under load). Only
      // when the listening socket is gone can they not: then at once; else a safety net.
      if (this.socketGone) {
        const err = new Error('the process ended before it was connected') as NodeJS.ErrnoException;
        err.code = 'ECONNRESET';
        this.fail(err);
        return;
      }
      this.lateTimer ??= setTimeout(() => {
        const err = new Error('the process ended before it was connected') as NodeJS.ErrnoException;
        err.code = 'ECONNRESET';
        this.fail(err);
      }, LATE_CONNECTION_MS).unref();
      return;
    }
    if (this.lateTimer !== null) clearTimeout(this.lateTimer);
    this.closed = true;
    this.emit('close');
  }
}

function signalName(n: number): NodeJS.Signals | null {
  for (const [name, v] of Object.entries(os.constants.signals)) if (v === n) return name as NodeJS.Signals;
  return null;
}

/** The helper and its socket; started on the first launch, again after it died. */
class Launcher {
  private helper: ChildProcess | null = null;
  private server: net.Server | null = null;
  private dir = '';
  private sockPath = '';
  private nextToken = 1;
  private readonly byToken = new Map<number, HelperProcess>();
  private readonly byPid = new Map<number, HelperProcess>();
  /** Set when the helper could not be started: every launch then uses child_process.spawn(). */
  unavailable: string | null = null;
  /** The helper's interpreter and program: Python 3 when installed, else perl; null: neither (or LANTERN_CGI_SPAWN=direct). */
  private readonly program: { interpreter: string; args: string[] } | null = helperProgram(process.env.LANTERN_CGI_SPAWN);

  launch(spec: LaunchSpec): LaunchedProcess {
    if (this.program === null || this.unavailable !== null) return directSpawn(spec);
    if (this.helper === null && !this.start()) return directSpawn(spec);
    const token = this.nextToken++;
    const p = new HelperProcess();
    this.byToken.set(token, p);
    p.once('close', () => {
      this.byToken.delete(token);
      if (p.pid !== undefined) this.byPid.delete(p.pid);
    });
    const fields: Buffer[] = [String(token), spec.file, spec.cwd, String(spec.argv.length), ...spec.argv]
      .map((f) => Buffer.from(f, 'utf8'));
    for (const [k, v] of spec.env) fields.push(Buffer.from(`${k}=${v}`, 'latin1'));
    const payload = Buffer.concat(fields.flatMap((f, i) => (i === 0 ? [f] : [NUL, f])));
    this.helper!.stdin!.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
    return p;
  }

  /** Start the helper and its socket; false (and the reason kept) when that cannot be done. */
  private start(): boolean {
    try {
      this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-cgi-'));
      this.sockPath = path.join(this.dir, 's');
      const server = net.createServer({ allowHalfOpen: true }, (s) => this.accepted(s));
      server.on('error', () => { /* the socket file is private: a failed accept only loses that child */ });
      server.listen(this.sockPath);
      server.unref();
      this.server = server;
      const { interpreter, args } = this.program!;
      const helper = spawn(interpreter, [...args, this.sockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
      helper.unref();
      (helper.stdin as net.Socket).unref?.();
      (helper.stdout as net.Socket).unref?.();
      this.helper = helper;
      let buf = '';
      helper.stdout!.setEncoding('latin1');
      helper.stdout!.on('data', (text: string) => {
        buf += text;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.report(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      helper.stdin!.on('error', () => { /* handled by 'exit' */ });
      helper.once('error', (err) => this.helperGone(`cannot start ${interpreter}: ${err.message}`, true));
      helper.once('exit', () => this.helperGone('the helper exited', false));
      return true;
    } catch (err) {
      this.unavailable = (err as Error).message;
      return false;
    }
  }

  /** A child's connection: its first line says whose and which. */
  private accepted(s: net.Socket): void {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) { if (head.length > 64) s.destroy(); return; }
      s.off('data', onData);
      s.pause();
      const [tokenText, roleText] = head.slice(0, nl).split(' ');
      const p = this.byToken.get(Number(tokenText));
      const role = Number(roleText);
      if (p === undefined || !(role >= 0 && role <= 2)) { s.destroy(); return; }
      const rest = head.slice(nl + 1);
      if (rest.length > 0) s.unshift(Buffer.from(rest, 'latin1'));
      p.attach(role, s);
    };
    s.on('data', onData);
    s.on('error', () => { /* reported through the stream's owner */ });
  }

  private report(line: string): void {
    const [kind, a, b] = line.split(' ');
    if (kind === 'P') {
      const p = this.byToken.get(Number(a));
      if (p === undefined) return;
      const pid = Number(b);
      this.byPid.set(pid, p);
      p.started(pid);
    } else if (kind === 'E') {
      const p = this.byToken.get(Number(a));
      if (p === undefined) return;
      const errno = Number(b);
      const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
      const err = new Error(`${code}`) as NodeJS.ErrnoException;
      err.code = code;
      err.errno = -errno;
      p.fail(err);
    } else if (kind === 'X') {
      const p = this.byPid.get(Number(a));
      p?.exited(b ?? 'c0');
    }
  }

  private helperGone(why: string, cannotStart: boolean): void {
    if (this.helper === null) return;
    this.helper = null;
    this.server?.close();
    this.server = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (cannotStart) this.unavailable = why;
    // Launches still waiting for their start fail; started processes are ended (nobody reaps them now).
    for (const p of this.byToken.values()) {
      if (p.pid === undefined) {
        const err = new Error(why) as NodeJS.ErrnoException;
        err.code = 'EAGAIN';
        p.fail(err);
      } else {
        p.kill('SIGKILL');
        p.exited('s9');
        p.listenerGone();
      }
    }
  }

  /** Shutdown: the helper goes once every script has been ended (process-transport.ts stops them first). */
  stop(): void {
    const h = this.helper;
    if (h === null) return;
    h.stdin!.end();
  }
}

/**
 * Which helper runs: `LANTERN_CGI_SPAWN` = "python", "perl" or "direct" (child_process.spawn()
 * from lantern itself) chooses; by default Python 3, else perl, else direct.
 */
function helperProgram(choice: string | undefined): { interpreter: string; args: string[] } | null {
  const find = (paths: string[]) => paths.find((p) => fs.existsSync(p)) ?? null;
  if (choice === '') choice = undefined;
  const python = choice === undefined || choice === 'python' ? find(['/usr/bin/python3', '/usr/local/bin/python3']) : null;
  if (python !== null) return { interpreter: python, args: ['-I', '-S', '-c', PY_HELPER] };
  const perl = choice === undefined || choice === 'perl' ? find(['/usr/bin/perl', '/bin/perl']) : null;
  if (perl !== null) return { interpreter: perl, args: ['-e', HELPER] };
  return null;
}

const NUL = Buffer.from([0]);
/**
 * Safety net: how long a reaped process's connections may still be unread (they were made before
 * its start was reported, so only a fault can keep them away this long).
 */
const LATE_CONNECTION_MS = 60_000;

/** child_process.spawn(), with the environment as Node can pass it (UTF-8 strings). */
function directSpawn(spec: LaunchSpec): ChildProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of spec.env) {
    if (k.includes('=') || k.includes('\0')) continue;
    // eslint-disable-next-line no-control-regex
    env[k] = /[^\x00-\x7f]/.test(v) ? Buffer.from(v, 'latin1').toString('utf8') : v;
  }
  return spawn(spec.file, spec.argv.slice(1), { argv0: spec.argv[0], cwd: spec.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
}

const launcher = new Launcher();

/** Start a CGI process (through the helper when it can). */
export function launchProcess(spec: LaunchSpec): LaunchedProcess {
  return launcher.launch(spec);
}

/** Shutdown, after every script ended: the helper exits. */
export function stopLauncher(): void {
  launcher.stop();
}
