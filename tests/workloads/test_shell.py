"""The exec shell: grammar, expansion, redirection, exit codes, deadlines, images."""

from __future__ import annotations

import pytest

from ciliumlab.workloads.shell import TIMEOUT_EXIT_CODE, run_command
from tests.workloads.fakenet import FakeNet


def sh(script, **kw):
    net = kw.pop("net", None) or FakeNet()
    kw.setdefault("image", "nicolaka/netshoot")
    return run_command(net, script, **kw)


@pytest.mark.parametrize("script, out", [
    ("echo \"a  b\" 'c  d' e\\ f", "a  b c  d e f\n"),
    ("X=1; echo $X ${X} \"$X\"'$X'", "1 1 1$X\n"),
    ("echo $(echo hi | tr a-z A-Z) `echo yo`", "HI yo\n"),
    ("echo $((1 + 2 * 3)) $(( (7 - 1) / 4 ))", "7 1\n"),
    ("v='a b'; for w in $v \"$v\"; do echo [$w]; done", "[a]\n[b]\n[a b]\n"),
    ("echo ${UNSET:-dflt} ${#HOME}", "dflt 5\n"),
    ("true && echo yes || echo no; false && echo yes || echo no", "yes\nno\n"),
    ("if [ 3 -gt 2 ]; then echo gt; elif true; then echo x; else echo le; fi", "gt\n"),
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done", "1\n2\n3\n"),
    ("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i", "2\n"),
    ("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done", "1\n3\n"),
    ("{ echo a; echo b; } | wc -l", "2\n"),
    ("(X=inner; echo $X); echo ${X:-outer}", "inner\nouter\n"),
    ("printf '%s=%d\\n' a 1 b 2", "a=1\nb=2\n"),
    ("echo -n x; echo -e 'y\\tz'", "xy\tz\n"),
    ("seq 3 | sort -r | head -n 2", "3\n2\n"),
    ("printf 'b\\na\\nb\\n' | sort | uniq -c", "      1 a\n      2 b\n"),
    ("echo a:b:c | cut -d: -f2,3", "b:c\n"),
    ("echo 'x y z' | awk '{print $2}'", "y\n"),
    ("echo hello world | sed 's/o/0/g'", "hell0 w0rld\n"),
    ("printf 'a\\nB\\nc\\n' | grep -i -v b", "a\nc\n"),
    ("printf 'foo envoy\\nbar\\n' | grep -i -envoy", "foo envoy\n"),
    ("printf 'a1\\nb22\\n' | grep -oE '[0-9]+'", "1\n22\n"),
    ("printf 'x\\ny\\n' | grep -c .", "2\n"),
    ("echo hi > /tmp/f; echo there >> /tmp/f; cat /tmp/f; wc -l < /tmp/f", "hi\nthere\n2\n"),
    ("cat <<EOF\nhost=$HOSTNAME\nEOF", "host=curl-pod\n"),
    ("f() { echo \"arg:$1\"; return 3; }; f x; echo $?", "arg:x\n3\n"),
    ("case webpod in web*) echo web;; *) echo other;; esac", "web\n"),
    ("cat /etc/hostname", "curl-pod\n"),
])
def test_script_output(script, out):
    r = sh(script)
    assert (r.stdout, r.exit_code) == (out, 0), r.stderr


def test_stderr_redirections():
    r = sh("ls /nope 2>&1 | tr a-z A-Z; ls /nope 2>/dev/null; echo rc=$?")
    assert r.stdout == "LS: /NOPE: NO SUCH FILE OR DIRECTORY\nrc=1\n"
    assert r.stderr == ""


def test_exit_codes_and_not_found():
    assert sh("exit 3").exit_code == 3
    assert sh("false").exit_code == 1
    assert sh("! false").exit_code == 0
    r = sh("nosuchcmd; echo $?")
    assert (r.stdout, r.stderr) == ("127\n", "sh: nosuchcmd: not found\n")
    r = sh(["bash", "-c", "nosuchcmd"])
    assert (r.stderr, r.exit_code) == ("bash: line 1: nosuchcmd: command not found\n", 127)
    r = sh("cat /nope")
    assert (r.stderr, r.exit_code) == ("cat: /nope: No such file or directory\n", 1)


def test_syntax_error():
    r = sh("if true; then echo")
    assert r.exit_code == 2 and "syntax error" in r.stderr


def test_set_e_stops_script():
    r = sh(["sh", "-ec", "echo a; false; echo b"])
    assert (r.stdout, r.exit_code) == ("a\n", 1)


def test_sh_c_positional_args():
    r = sh(["sh", "-c", "echo $0 $1 $#", "me", "one"])
    assert r.stdout == "me one 1\n"


def test_direct_exec_missing_binary_is_runtime_error():
    r = sh(["dig", "x"], image="curlimages/curl")
    assert r.exec_failed and r.exit_code == 1
    assert r.stderr.startswith("error: Internal error occurred: error executing command in container: ")
    assert r.stderr.endswith('exec: "dig": executable file not found in $PATH: unknown\n')


def test_image_availability():
    assert sh("curl -s webpod", image="busybox").stderr == "sh: curl: not found\n"
    assert sh("wget -qO- webpod", image="busybox").exit_code == 0
    assert sh("which curl dig", image="nicolaka/netshoot").stdout == "/usr/bin/curl\n/usr/bin/dig\n"
    assert sh(["sh", "-c", "true"], image="traefik/whoami:v1.10").exec_failed


def test_deadline_makes_infinite_loop_finite():
    net = FakeNet()
    start = net.now()
    r = run_command(net, ["sh", "-c", "while true; do curl -s webpod | grep Hostname; sleep 1; done"],
                    deadline=start + 3.5, image="nicolaka/netshoot")
    assert r.timed_out and r.exit_code == TIMEOUT_EXIT_CODE
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0] != lines[1] and lines[0] == lines[2]  # the service alternates backends
    assert net.now() == pytest.approx(start + 3.5)


def test_deadline_output_still_flows_through_pipeline():
    net = FakeNet()
    r = run_command(net, "while true; do echo tick; sleep 1; done | grep -c tick", deadline=net.now() + 2.5)
    assert (r.stdout, r.timed_out) == ("3\n", True)


def test_runaway_loop_without_time_is_capped():
    r = sh("while :; do :; done")
    assert r.timed_out


def test_extra_commands_get_context():
    seen = {}

    def cilium_dbg(args, ctx):
        seen["env"] = ctx.env.get("FOO")
        ctx.stdout.write(f"args={args} stdin={ctx.stdin!r}\n")
        ctx.stderr.write("warn\n")
        return 4

    r = sh("echo in | FOO=bar cilium-dbg status --verbose", extra_commands={"cilium-dbg": cilium_dbg})
    assert r.stdout == "args=['status', '--verbose'] stdin='in\\n'\n"
    assert (r.stderr, r.exit_code, seen["env"]) == ("warn\n", 4, "bar")


def test_stream_callback_sees_output_live():
    chunks = []
    sh("echo a; echo b >&2", stream=lambda name, text: chunks.append((name, text)))
    assert chunks == [("stdout", "a\n"), ("stderr", "b\n")]


def test_tail_follow_until_deadline():
    net = FakeNet()
    net.files["/var/log/x"] = "one\n"
    r = run_command(net, ["tail", "-f", "/var/log/x"], deadline=net.now() + 2.5)
    assert (r.stdout, r.timed_out) == ("one\n", True)
