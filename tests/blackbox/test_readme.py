"""The README's curl examples run as written (against a fresh server, with
its port in place of 5000) and every one of them succeeds."""
import pathlib
import re
import shutil
import subprocess

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_examples():
    text = README.read_text(encoding="utf-8")
    section = text.split("## The REST core", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    joined = block.replace("\\\n", " ")
    # A trailing "  # comment" is prose for the reader, not part of the command.
    return [re.split(r"\s+#\s", line.strip(), maxsplit=1)[0]
            for line in joined.splitlines() if line.strip().startswith("curl ")]


def test_readme_has_examples():
    cmds = readme_examples()
    assert len(cmds) >= 10, cmds
    for route in ("/articles/bulk", "/health", "/metrics", "/openapi.json", "after_id="):
        assert any(route in c for c in cmds), route


def test_readme_examples_run(fresh_server):
    if not shutil.which("curl"):
        pytest.fail("curl is needed to run the README's examples (apt-get install curl)")
    statuses = []
    for cmd in readme_examples():
        cmd = cmd.replace("localhost:5000", f"127.0.0.1:{fresh_server.port}")
        # Every example's status, in the order the README gives them.
        r = subprocess.run(["bash", "-c", cmd + " -o /dev/null -w '%{http_code}'"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (cmd, r.stderr)
        statuses.append((cmd, r.stdout.strip()[-3:]))
    bad = [(c, s) for c, s in statuses if not s.startswith("2")]
    assert not bad, bad
    assert statuses[0][1] == "201", statuses[0]
