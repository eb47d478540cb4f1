"""deploy/gunicorn.conf.py as the README starts it: no control socket shared by every gunicorn of the user."""

from __future__ import annotations

import sys
import urllib.request

from tests.deploy.processes import Process, child_env, free_port, port_open, wait_for


def test_gunicorn_opens_no_control_socket_in_the_users_home(tmp_path):
    # gunicorn >= 25 opens $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl unless told not to:
    # one path per user, taken over by each gunicorn that starts (two deployments, or the tests beside a site).
    home, var = tmp_path / "home", tmp_path / "var"
    home.mkdir()
    port = free_port()
    env = child_env(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(home),
        LIQSITE_VAR_DIR=str(var),
        LIQSITE_BIND=f"127.0.0.1:{port}",
        LIQSITE_WEB_WORKERS="1",
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "liqsite.wsgi"]
    web = Process("gunicorn", command, env=env, logs=tmp_path)
    try:
        wait_for(lambda: port_open(port), timeout=60, what="gunicorn to listen", processes=(web,))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/model/", timeout=30) as response:
            assert response.status == 200
        assert not list(home.rglob("*.ctl")), web.output()
        assert "Control socket listening" not in web.output()
    finally:
        web.stop()
