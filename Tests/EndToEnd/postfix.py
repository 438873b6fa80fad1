"""Private Postfix instances for end-to-end tests, the way
/work/shared/bench/postfix_baseline.sh runs one: their own config, queue and data
directories, a log file, listening on loopback only, never the system instance.

    with PrivatePostfix(workdir, relayhost=("127.0.0.1", sink_port), tls=(cert, key)) as postfix:
        ... MAILGATE_RELAY=smtp://127.0.0.1:{postfix.port} ...
        postfix.log()           # the maillog text

Postfix's master runs as root and its daemons as the `postfix` user, so the
directory it lives in must be reachable by that user: the instance makes a
directory of its own under `workdir` and opens the path down to it (read and
search only, for others).

Also `self_signed_certificate(directory, name)`: a throwaway certificate and key
(PEM files) made with the openssl command line.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from harness import free_port, wait_until


def self_signed_certificate(directory, name="relay.test", ip=None):
    """Writes `<name>.crt` and `<name>.key` (P-256, one day) and returns their paths;
    the certificate names `name`, and the address `ip` too when given."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}" + (f",IP:{ip}" if ip else "")],
        check=True, capture_output=True)
    return str(cert), str(key)


def postfix_available():
    return os.geteuid() == 0 and shutil.which("postfix") is not None and Path("/usr/lib/postfix/sbin/master").exists()


MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PrivatePostfix:
    """One Postfix instance relaying everything it accepts from loopback to
    `relayhost`, with STARTTLS offered (`may`) when `tls` = (cert, key) is given."""

    def __init__(self, workdir, relayhost, tls=None, port=None):
        self.root = Path(workdir) / f"postfix-{time.monotonic_ns()}"
        self.port = port or free_port()
        self.config = self.root / "etc"
        self.queue = self.root / "spool"
        self.data = self.root / "data"
        self.log_path = self.root / "maillog"
        self.relayhost = relayhost
        self.tls = tls
        self.master_pid = None

    # -- lifecycle

    def start(self):
        for directory in (self.config, self.queue, self.data):
            directory.mkdir(parents=True)
        shutil.chown(self.data, "postfix", "postfix")
        self._open_path_for_postfix()
        (self.config / "main.cf").write_text(self._main_cf())
        (self.config / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))
        self._postfix("start")
        self.master_pid = wait_until(self._read_master_pid, timeout=15, what="postfix master.pid")
        wait_until(self._listening, timeout=15, what=f"postfix smtpd on port {self.port}")
        return self

    def stop(self):
        """Stops the master by its own pid (it ends its children) and waits for it."""
        pid = self.master_pid or self._read_master_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()

    # -- what it did

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def queue_files(self):
        """Messages still in Postfix's queue (incoming, active, deferred, hold)."""
        return [p for name in ("incoming", "active", "deferred", "hold", "maildrop")
                for p in (self.queue / name).rglob("*") if p.is_file()]

    # -- internals

    def _main_cf(self):
        host, port = self.relayhost
        lines = f"""\
compatibility_level = 3.6
config_directory = {self.config}
queue_directory = {self.queue}
data_directory = {self.data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-mailgate-test
maillog_file = {self.log_path}
maillog_file_prefixes = {self.root}
myhostname = relay.test
mydomain = test
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
relayhost = [{host}]:{port}
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_tls_security_level = none
biff = no
append_dot_mydomain = no
"""
        if self.tls:
            cert, key = self.tls
            lines += f"""\
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
"""
        return lines

    def _open_path_for_postfix(self):
        """Adds o+x (and o+r on our own directories) from / down to the instance."""
        path = self.root
        while True:
            mode = path.stat().st_mode
            if mode & 0o001 == 0:
                path.chmod(mode | 0o005 if path == self.root else mode | 0o001)
            if path.parent == path:
                break
            path = path.parent
        self.root.chmod(0o755)

    def _postfix(self, command):
        result = subprocess.run(["postfix", "-c", str(self.config), command], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"postfix {command} failed ({result.returncode}): {result.stderr}\n{self.log()[-2000:]}")

    def _read_master_pid(self):
        try:
            text = (self.queue / "pid" / "master.pid").read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def _listening(self):
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                return connection.recv(100).startswith(b"220")
        except OSError:
            return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent, `postfix start`, has exited).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    except (FileNotFoundError, IndexError):
        return False
