"""Serve a frontend that is already built with the app's backend on one port: what `reflex run --env prod` ends
with, without compiling the app and building the frontend again.

    python -m tests.browser.serve_built PORT      # REFLEX_WEB_WORKDIR names the build, made for PORT

tests/browser/harness.py starts a pytest worker's first app with `reflex run --env prod` and every later one
with this: the same code on the same port builds the same frontend (the port is baked into it), and the build
was ~10 s of every app start. Each app still gets its own database, Redis and state files.
"""

import sys

from reflex import constants
from reflex.config import get_config
from reflex.environment import environment
from reflex.utils import exec as rx_exec


def main() -> None:
    port = int(sys.argv[1])
    config = get_config()
    environment.REFLEX_COMPILE_CONTEXT.set(constants.CompileContext.RUN)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    config._set_persistent(frontend_port=port, backend_port=port)
    environment.REFLEX_SKIP_COMPILE.set(True)  # the backend imports the app without compiling it
    rx_exec.notify_app_running()
    rx_exec.run_backend_prod(config.backend_host, port, config.loglevel.subprocess_level(), True)


if __name__ == "__main__":
    main()
